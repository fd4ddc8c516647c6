// End to end: `alpha_forge signal` (a child process) against the simulated
// exchange (in this process, serving a generated Binance Vision mirror over
// WebSocket, REST and the bulk archive, with faults), and `alpha_forge replay`
// over the same mirror and period. The live predictions must equal the replayed
// ones (ts, symbol and printed value), with no bar missing or doubled at the
// warmup seam, across disconnects and a kill -9 plus restart, for 1m, 15m and 1h
// streams and a 15m -> 2h resample. The signal process sees the market only
// through the network.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "support/signal_scenario.hpp"

namespace af {
namespace {

using testing::anchor_of;
using testing::ChildProcess;
using testing::csv_rows;
using testing::metric_sum;
using testing::read_csv_predictions;
using testing::read_file;
using testing::run_command;
using testing::SimMarket;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

const std::string kBinary = testing::kAlphaForge;
constexpr auto kLong = testing::kServiceDeadline;

using Predictions = testing::CsvPredictions;

struct Scenario {
  std::string interval = "1m";    // of the stream
  std::string resample;           // "" or the target of transforms.resample
  std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"};
  double speed = 600;
  std::string faults = "disconnect=0.01,duplicate=0.05,late_close=0.05,missing_close=0.05,seed=11";
  int lookback_days = 2;
  std::string mirror_from = "2024-01-01";
  std::string mirror_to = "2024-01-20";
  std::string sim_start = "2024-01-10T00:07:00Z";
  // The model stage on timer.<3 x interval> and signal.generated (issue 16 item 5).
  bool events = false;
  // The last symbol's bars end here (its mirror stops): "" for none.
  std::string last_symbol_to;
};

std::string pipeline_yaml(const Scenario& s, const std::string& csv) {
  std::string universe;
  for (const auto& sym : s.symbols) universe += (universe.empty() ? "" : ", ") + sym;
  const std::string frame = s.resample.empty() ? "ohlcv" : "bars_" + s.resample;
  std::string y = "name: parity\n"
                  "signal_generation:\n"
                  "  mode: stream\n"
                  "  warmup:\n"
                  "    lookback_days: " + std::to_string(s.lookback_days) + "\n"
                  "  scheduling:\n"
                  "    interval: " + (s.resample.empty() ? s.interval : s.resample) + "\n"
                  "    buffer_minutes: 1\n"
                  "  on_prediction:\n"
                  "    - using: sinks.csv_append\n"
                  "      params:\n"
                  "        path: " + csv + "\n"
                  "        dedup_key: [ts, symbol]\n"
                  "pipeline:\n"
                  "  - data:\n"
                  "      using: data.binance_futures\n"
                  "      outputs: {frame: ohlcv}\n"
                  "      params: {universe: [" + universe + "], interval: " + s.interval + "}\n";
  if (!s.resample.empty()) {
    y += "  - transform:\n"
         "      using: transforms.resample\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {frame: " + frame + "}\n"
         "      params: {target_freq: " + s.resample + "}\n";
  }
  y += "  - features:\n"
       "      using: features.momentum\n"
       "      inputs: {column: " + frame + ".close}\n"
       "      outputs: {columns: [mom_10]}\n"
       "      params: {window: 10}\n"
       "  - features:\n"
       "      using: features.rsi\n"
       "      inputs: {column: " + frame + ".close}\n"
       "      outputs: {columns: [rsi_14]}\n"
       "      params: {window: 14}\n"
       "  - features:\n"
       "      using: features.obv\n"
       "      inputs: {frame: " + frame + "}\n"
       "      outputs: {columns: [obv]}\n"
       "  - model:\n"
       "      using: models.linear\n"
       "      inputs: {frame: " + frame + "}\n"
       "      outputs: {columns: [" + std::string(s.events ? "stage1" : "model.prediction") + "]}\n"
       "      params:\n"
       "        features: [mom_10, rsi_14, obv]\n"
       "        weights: [-5.0, -0.04, 0.000001]\n"
       "        bias: 2.0\n";
  if (!s.events) return y + "        output_col: model.prediction\n";
  // A model on schedule, and a second stage after each prediction of the others:
  // the emitted column needs both, so every record comes from a tick's chain.
  const int64_t bar_ms = *parse_interval(s.resample.empty() ? s.interval : s.resample);
  y += "  - model:\n"
       "      using: models.linear\n"
       "      on: timer." + interval_name(3 * bar_ms) + "\n"
       "      inputs: {frame: " + frame + "}\n"
       "      outputs: {columns: [scheduled]}\n"
       "      params: {features: [rsi_14], weights: [0.01]}\n"
       "  - model:\n"
       "      using: models.linear\n"
       "      on: signal.generated\n"
       "      inputs: {frame: " + frame + "}\n"
       "      outputs: {columns: [model.prediction]}\n"
       "      params: {features: [stage1, scheduled], weights: [1.0, -1.0], output_col: model.prediction}\n";
  return y;
}

class SignalTest : public ::testing::Test {
 protected:
  // Writes the mirror and starts the exchange serving it.
  void start_exchange(const Scenario& s) {
    testing::SimMarketOptions o;
    o.symbols = s.symbols;
    o.interval = s.interval;
    o.from = s.mirror_from;
    o.to = s.mirror_to;
    o.start = s.sim_start;
    o.speed = s.speed;
    o.faults = s.faults;
    o.last_symbol_to = s.last_symbol_to;
    ASSERT_EQ(market_.start(dir_.path().string(), o), "");
  }

  std::unique_ptr<ChildProcess> start_signal(const std::string& pipeline, const std::string& state_dir,
                                             const std::string& tag, std::vector<std::string> extra = {},
                                             const std::vector<std::string>& env = {}) {
    std::vector<std::string> flags{"--state-dir", state_dir, "--snapshot-every", "1", "--anchor-timeout", "20"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return testing::start_signal(pipeline, market_, dir_ / tag, flags, env);
  }

  // Stops the service with SIGTERM; it must drain and say so.
  void stop_signal(ChildProcess& p) {
    const int code = testing::stop_service(p, SIGTERM);
    ASSERT_EQ(code, 0) << p.err();
    ASSERT_NE(p.out().find("Signal generation completed"), std::string::npos) << p.out();
  }

  // Replays the same pipeline over the mirror for [anchor, last live prediction]
  // and compares every prediction.
  void expect_replay_equal(const Scenario& s, const std::string& anchor, const Predictions& live) {
    ASSERT_FALSE(live.rows.empty());
    ASSERT_EQ(live.duplicates, 0u) << "a (ts, symbol) was written twice";
    std::string last = live.rows.begin()->first.first;
    for (const auto& [key, v] : live.rows) last = std::max(last, key.first);
    const std::string iv = s.resample.empty() ? s.interval : s.resample;
    const int64_t iv_ms = *parse_interval(iv);
    const std::string to = format_iso8601(*parse_iso8601(last) + iv_ms);
    const std::string csv = dir_ / "replay.csv";
    write_file(dir_ / "replay.yaml", pipeline_yaml(s, csv));
    auto r = run_command(kBinary + " replay " + (dir_ / "replay.yaml") + " --data " + (dir_ / "mirror") +
                         " --from " + anchor + " --to " + to);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Predictions replayed = read_csv_predictions(csv);
    // The live run was stopped at some moment: each symbol is compared up to its
    // own newest live prediction (symbols may stand a bar or a backfill apart).
    std::map<std::string, std::string> newest;
    for (const auto& [key, v] : live.rows) newest[key.second] = std::max(newest[key.second], key.first);
    std::erase_if(replayed.rows, [&](const auto& row) { return row.first.first > newest[row.first.second]; });
    if (replayed.rows.size() != live.rows.size()) {
      std::string missing;
      int shown = 0;
      for (const auto& [key, v] : replayed.rows) {
        if (!live.rows.count(key) && shown++ < 12) missing += " " + key.first + "/" + key.second;
      }
      if (const char* keep = std::getenv("AF_SIGNAL_TEST_KEEP")) {
        std::filesystem::copy(dir_.path(), keep,
                              std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
      }
      FAIL() << "replay has " << replayed.rows.size() << " predictions, live " << live.rows.size()
             << "; missing from live:" << missing << "\n" << r.out;
    }
    size_t diffs = 0;
    for (const auto& [key, v] : replayed.rows) {
      auto it = live.rows.find(key);
      if (it == live.rows.end()) {
        ADD_FAILURE() << "live has no prediction for " << key.first << " " << key.second;
        if (++diffs > 5) break;
      } else if (it->second != v) {
        ADD_FAILURE() << key.first << " " << key.second << ": live " << it->second << " replay " << v;
        if (++diffs > 5) break;
      }
    }
    EXPECT_EQ(diffs, 0u);
  }

  // Runs signal until `min_rows` live predictions, stops it, compares with replay.
  void run_parity(const Scenario& s, size_t min_rows) {
    start_exchange(s);
    if (HasFatalFailure()) return;
    const std::string csv = dir_ / "live.csv";
    write_file(dir_ / "live.yaml", pipeline_yaml(s, csv));
    auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "live");
    ASSERT_TRUE(p->started());
    ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= min_rows || !p->running(); }, kLong))
        << p->err();
    ASSERT_TRUE(p->running()) << p->err();
    stop_signal(*p);
    const std::string anchor = anchor_of(p->out());
    ASSERT_FALSE(anchor.empty()) << p->out();
    // The original's words when streaming starts (issue 16 item 6), after the warmup.
    const size_t warmup_done = p->err().find("warmup done: ");
    const size_t starting = p->err().find("Starting real-time signal generation (Ctrl+C to stop)");
    EXPECT_NE(starting, std::string::npos) << p->err();
    EXPECT_LT(warmup_done, starting) << p->err();
    const Predictions live = read_csv_predictions(csv);
    if (s.resample.empty()) {
      // The seam: history ends with the bar just before A, and A is the first prediction.
      const int64_t iv = *parse_interval(s.interval);
      const std::string last_history = format_iso8601(*parse_iso8601(anchor) - iv);
      EXPECT_NE(p->err().find("last=" + last_history), std::string::npos) << p->err();
      ASSERT_FALSE(live.rows.empty());
      EXPECT_EQ(live.rows.begin()->first.first, anchor);
    }
    expect_replay_equal(s, anchor, live);
  }

  TempDir dir_;
  SimMarket market_;
};

TEST_F(SignalTest, OneMinuteStreamEqualsReplay) {
  Scenario s;
  run_parity(s, 60);
}

TEST_F(SignalTest, FifteenMinuteStreamEqualsReplay) {
  Scenario s;
  s.interval = "15m";
  s.speed = 9000;
  s.lookback_days = 5;
  run_parity(s, 40);
}

TEST_F(SignalTest, OneHourStreamEqualsReplay) {
  Scenario s;
  s.interval = "1h";
  s.speed = 36'000;
  s.lookback_days = 5;
  s.mirror_to = "2024-01-25";
  run_parity(s, 30);
}

TEST_F(SignalTest, FifteenMinuteResampledToTwoHoursEqualsReplay) {
  Scenario s;
  s.interval = "15m";
  s.resample = "2h";
  s.speed = 36'000;
  s.lookback_days = 5;
  s.mirror_to = "2024-01-25";
  run_parity(s, 16);
}

// Timer ticks and signal.generated live: ticks fire before a symbol's first bar
// closing after them, or by the exchange's clock, as replay's virtual clock does.
// Faults without disconnects: a tick fired by the clock does not wait for a
// reconnect's backfill (docs/dsl.md, "Events").
TEST_F(SignalTest, TimerAndSignalGeneratedStreamEqualsReplay) {
  Scenario s;
  s.events = true;
  s.faults = "duplicate=0.05,late_close=0.05,missing_close=0.05,seed=11";
  start_exchange(s);
  if (HasFatalFailure()) return;
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(s, csv));
  auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "live");
  ASSERT_TRUE(p->started());
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= 30 || !p->running(); }, kLong)) << p->err();
  ASSERT_TRUE(p->running()) << p->err();
  stop_signal(*p);
  const std::string anchor = anchor_of(p->out());
  ASSERT_FALSE(anchor.empty()) << p->out();
  const Predictions live = read_csv_predictions(csv);
  // Only the ticks' bars: at each 3m boundary + 1 min buffer the newest bar is the
  // one opened at the boundary, so every third bar.
  for (const auto& [key, v] : live.rows) {
    const auto ts = parse_iso8601(key.first);
    ASSERT_TRUE(ts) << key.first;
    EXPECT_EQ(*ts % (3 * kMinuteMs), 0) << key.first;
  }
  expect_replay_equal(s, anchor, live);
}

// A symbol whose bars stop mid-stream: no bar of it comes after its last, so its
// ticks fire by the exchange's clock (LiveDriver::advance_timers), each predicting
// from its last row, as replay's clock fires them at its end.
TEST_F(SignalTest, TimerTicksByTheExchangeClockForASymbolWhoseBarsStop) {
  Scenario s;
  s.events = true;
  s.faults = "duplicate=0.05,seed=11";
  s.last_symbol_to = "2024-01-11";
  s.sim_start = "2024-01-10T23:47:00Z";
  start_exchange(s);
  if (HasFatalFailure()) return;
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(s, csv));
  auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "live");
  ASSERT_TRUE(p->started());
  // ETHUSDT's last bar opens at 23:59; wait for ten of its ticks after that.
  auto stale_records = [&] {
    size_t n = 0;
    for (const auto& [key, v] : read_csv_predictions(csv).rows) n += key.second == "ETHUSDT" && key.first > "2024-01-11T00:00";
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return stale_records() >= 10 || !p->running(); }, kLong)) << p->err();
  ASSERT_TRUE(p->running()) << p->err();
  stop_signal(*p);
  const std::string anchor = anchor_of(p->out());
  ASSERT_FALSE(anchor.empty()) << p->out();
  const Predictions live = read_csv_predictions(csv);
  std::set<std::string> stale;
  for (const auto& [key, v] : live.rows)
    if (key.second == "ETHUSDT" && key.first > "2024-01-11T00:00") stale.insert(v);
  EXPECT_EQ(stale.size(), 1u) << "every tick after ETHUSDT's last bar predicts from that bar";
  expect_replay_equal(s, anchor, live);
}

TEST_F(SignalTest, EveryFaultAtOnceEqualsReplay) {
  Scenario s;
  s.faults = "all,seed=5";
  run_parity(s, 80);
  EXPECT_GT(market_.exchange().stats().disconnects + market_.exchange().stats().missing_closes + market_.exchange().stats().rest_429, 0u);
}

// The restart story: kill -9 in the middle of the run, restart on the same state
// directory: the service resumes from its snapshot (the cumulative OBV carries
// on, which a fresh warmup would change), catches up the bars it missed while
// down, fetches no archive file again, and the sink holds every prediction once.
TEST_F(SignalTest, KillNineAndRestartEqualsReplay) {
  Scenario s;
  start_exchange(s);
  ASSERT_FALSE(HasFatalFailure());
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(s, csv));

  auto first = start_signal(dir_ / "live.yaml", dir_ / "state", "first");
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= 40 || !first->running(); }, kLong)) << first->err();
  ASSERT_TRUE(first->running()) << first->err();
  // Let a snapshot be taken after some live bars, then kill without warning.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(kLong), 128 + SIGKILL);
  const size_t rows_at_kill = csv_rows(csv);
  const uint64_t archive_before = market_.exchange().stats().archive_requests;
  // Down for a while: the exchange moves on (about 30 bars of 1m at speed 600).
  std::this_thread::sleep_for(std::chrono::seconds(3));

  auto second = start_signal(dir_ / "live.yaml", dir_ / "state", "second");
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= rows_at_kill + 60 || !second->running(); }, kLong))
      << second->err();
  ASSERT_TRUE(second->running()) << second->err();
  stop_signal(*second);
  EXPECT_NE(second->err().find("snapshot restored"), std::string::npos) << second->err();
  EXPECT_EQ(market_.exchange().stats().archive_requests, archive_before) << "the restart fetched archive files again";
  const std::string anchor = anchor_of(second->out());
  EXPECT_NE(second->out().find("restored=1"), std::string::npos) << second->out();
  std::smatch m;
  const std::string out = second->out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("catch_up_bars=(\\d+)")));
  EXPECT_GT(std::stoul(m[1].str()), 0u) << "bars closed while the service was down are caught up";
  expect_replay_equal(s, anchor, read_csv_predictions(csv));
}

// The metrics endpoint and the health check of a running service, and memory:
// 24 h of 1m bars for 4 symbols at high speed leave the RSS flat.
TEST_F(SignalTest, MetricsHealthAndFlatMemoryOverADayOfMinuteBars) {
  Scenario s;
  s.symbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};
  s.speed = 3600;  // one 1m bar per 17 wall ms: a day in 24 s
  s.lookback_days = 1;
  s.mirror_to = "2024-01-14";
  s.faults = "none";
  start_exchange(s);
  ASSERT_FALSE(HasFatalFailure());
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(s, csv));
  // Under AddressSanitizer freed blocks sit in its quarantine (256 MB) and count
  // in the RSS: the test measures the engine's memory, so the service runs with
  // no quarantine there (the rest of the suite keeps it).
  std::vector<std::string> env;
#if defined(__SANITIZE_ADDRESS__)
  const char* asan = std::getenv("ASAN_OPTIONS");
  env.push_back(std::string("ASAN_OPTIONS=") + (asan ? asan : "") + ":quarantine_size_mb=0");
#endif
  auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "live", {"--metrics-port", "0"}, env);
  std::string url;
  ASSERT_TRUE(wait_until(
      [&] {
        std::smatch m;
        const std::string out = p->out();
        if (!std::regex_search(out, m, std::regex("metrics (http://\\S+)/metrics"))) return false;
        url = m[1].str();
        return true;
      },
      std::chrono::seconds(20)))
      << p->out() << p->err();
  auto get = [&](const std::string& path) { return run_command("curl -s -m 5 " + url + path).out; };
  auto status = [&](const std::string& path) {
    return run_command("curl -s -m 5 -o /dev/null -w '%{http_code}' " + url + path).out;
  };
  ASSERT_TRUE(wait_until([&] { return status("/healthz") == "200"; }, kLong)) << get("/healthz") << p->err();
  EXPECT_EQ(get("/healthz"), "ok\n");
  EXPECT_EQ(status("/nope"), "404");

  // Warm: a few hundred live bars in, the steady state.
  ASSERT_TRUE(wait_until([&] { return metric_sum(get("/metrics"), "af_live_bars_total") >= 4 * 200; }, kLong));
  const std::string warm = get("/metrics");
  const double rss_warm = metric_sum(warm, "process_resident_memory_bytes");
  ASSERT_GT(rss_warm, 0);
  // A day of bars later.
  ASSERT_TRUE(wait_until([&] { return metric_sum(get("/metrics"), "af_live_bars_total") >= 4 * 1440; },
                         std::chrono::seconds(240)))
      << get("/metrics");
  const std::string day = get("/metrics");
  const double rss_day = metric_sum(day, "process_resident_memory_bytes");
  std::cout << "rss after warmup " << rss_warm / 1048576 << " MiB, after a day of 1m bars " << rss_day / 1048576
            << " MiB\n";
  EXPECT_LT(rss_day, rss_warm * 1.02) << "memory grows with the number of events";

  EXPECT_GE(metric_sum(day, "af_events_total"), 4 * 1440);
  EXPECT_GE(metric_sum(day, "af_predictions_total"), 4 * 1440 - 8);
  EXPECT_EQ(metric_sum(day, "af_warmup_done"), 1);
  EXPECT_GT(metric_sum(day, "af_bar_close_to_emit_seconds_count"), 4 * 1400);
  EXPECT_GE(metric_sum(day, "af_sink_sent_total"), 4 * 1400);
  EXPECT_EQ(metric_sum(day, "af_sink_failed_total"), 0);
  EXPECT_GE(metric_sum(day, "af_feed_reconnects_total"), 0);
  EXPECT_NE(day.find("# TYPE af_bar_close_to_emit_seconds histogram"), std::string::npos);
  EXPECT_NE(day.find("af_sink_queue_depth{sink=\"sinks.csv_append[0]\"}"), std::string::npos) << day;
  stop_signal(*p);
  // Everything that was emitted reached the sink once.
  const Predictions live = read_csv_predictions(csv);
  EXPECT_EQ(live.duplicates, 0u);
  EXPECT_GE(live.rows.size(), 4u * 1440 - 8);
}

// Bad input at start-up: one clear line, exit 1, nothing hangs.
TEST_F(SignalTest, NoKlineMessageWithinTheTimeoutIsAClearError) {
  Scenario s;
  write_file(dir_ / "live.yaml", pipeline_yaml(s, dir_ / "live.csv"));
  // Nothing listens on port 1: the WebSocket never connects.
  auto r = run_command(kBinary + " signal " + (dir_ / "live.yaml") + " --anchor-timeout 2" +
                       " --binance-ws-url ws://127.0.0.1:1/market/stream --binance-rest-url http://127.0.0.1:1" +
                       " --binance-vision-url http://127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: live feed: no kline message from ws://127.0.0.1:1/market/stream within 2 s"),
            std::string::npos)
      << r.err;
}

TEST_F(SignalTest, AMissingFileOrAnUnusableStateDirIsNamed) {
  auto missing = run_command(kBinary + " signal " + (dir_ / "missing.yaml"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("missing.yaml"), std::string::npos) << missing.err;

  Scenario s;
  write_file(dir_ / "live.yaml", pipeline_yaml(s, dir_ / "live.csv"));
  write_file(dir_ / "a_file", "not a directory");
  auto bad_state = run_command(kBinary + " signal " + (dir_ / "live.yaml") + " --state-dir " + (dir_ / "a_file") +
                               " --binance-ws-url ws://127.0.0.1:1/market/stream");
  EXPECT_EQ(bad_state.exit_code, 1);
  EXPECT_NE(bad_state.err.find("--state-dir " + (dir_ / "a_file")), std::string::npos) << bad_state.err;
}

// A damaged snapshot: a warning naming it, a fresh warmup, nothing doubled.
TEST_F(SignalTest, ADamagedSnapshotFallsBackToAFreshWarmup) {
  Scenario s;
  start_exchange(s);
  ASSERT_FALSE(HasFatalFailure());
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(s, csv));
  auto first = start_signal(dir_ / "live.yaml", dir_ / "state", "first");
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= 20 || !first->running(); }, kLong)) << first->err();
  stop_signal(*first);
  const std::string snapshot = dir_ / "state/snapshot.bin";
  std::string bytes = read_file(snapshot);
  ASSERT_GT(bytes.size(), 100u);
  bytes[bytes.size() / 2] ^= 0x5a;
  write_file(snapshot, bytes);

  const size_t rows = csv_rows(csv);
  auto second = start_signal(dir_ / "live.yaml", dir_ / "state", "second");
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= rows + 20 || !second->running(); }, kLong)) << second->err();
  stop_signal(*second);
  EXPECT_NE(second->err().find("snapshot unusable, warming up afresh: " + snapshot + ": checksum mismatch"),
            std::string::npos)
      << second->err();
  EXPECT_NE(second->out().find("restored=0"), std::string::npos) << second->out();
  EXPECT_EQ(read_csv_predictions(csv).duplicates, 0u);
}

// Shutdown while a sink is down: the first SIGTERM drains (the failing sink gets
// its retry budget, then its records go to the spool); a second one exits at once,
// and the spool keeps the pending records for the next start.
TEST_F(SignalTest, ASecondSignalExitsAtOnceAndTheSpoolKeepsWhatWasPending) {
  Scenario s;
  start_exchange(s);
  ASSERT_FALSE(HasFatalFailure());
  const std::string csv = dir_ / "live.csv";
  std::string y = pipeline_yaml(s, csv);
  // A second sink whose server is not there: nothing listens on port 1.
  const std::string anchor = "pipeline:\n";
  y.insert(y.find(anchor),
           "    - using: sinks.clickhouse\n"
           "      params: {url: \"http://127.0.0.1:1\", table_name: predictions, create_table: true}\n");
  write_file(dir_ / "live.yaml", y);
  auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "live");
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= 30 || !p->running(); }, kLong)) << p->err();
  ASSERT_TRUE(p->running()) << p->err();
  p->signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const auto second_at = std::chrono::steady_clock::now();
  p->signal(SIGTERM);
  EXPECT_EQ(p->wait(std::chrono::seconds(5)), 130) << p->err();
  EXPECT_LT(std::chrono::steady_clock::now() - second_at, std::chrono::seconds(2));
  EXPECT_NE(p->err().find("second signal: exiting at once"), std::string::npos) << p->err();
  std::error_code ec;
  size_t spooled = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "state/spool", ec)) {
    if (e.path().filename().string().find("clickhouse") != std::string::npos) spooled += e.file_size();
  }
  EXPECT_GT(spooled, 0u) << "the records the ClickHouse sink could not take are in its spool";
}

}  // namespace
}  // namespace af
