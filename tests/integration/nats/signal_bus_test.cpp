// End to end: `alpha_forge signal --bus` (a child process) reading its data step
// from a nats-server of the test's own (JetStream, loopback), and `alpha_forge
// replay` over the same bars. The test publishes the bars of a synthetic Vision
// mirror itself (history before the service starts, then "live" ones while it
// runs), so that replay over that mirror is the exact reference. No exchange runs:
// ALPHA_FORGE_BINANCE_BASE_URL points at a closed port, and the service never
// needs it.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "nats/bar_stream.hpp"
#include "nats/stream_admin.hpp"
#include "support/child_process.hpp"
#include "support/nats_server.hpp"
#include "support/process.hpp"
#include "vision/vision_archive.hpp"

namespace af {
namespace {

using testing::ChildProcess;
using testing::NatsServer;
using testing::read_file;
using testing::run_command;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

const std::string kBinary = AF_BINARY;
constexpr auto kLong = std::chrono::seconds(120);

struct Predictions {
  std::map<std::pair<std::string, std::string>, std::string> rows;  // (ts, symbol) -> printed value
  size_t duplicates = 0;
};

Predictions read_predictions(const std::string& csv) {
  Predictions p;
  const auto lines = split_lines(read_file(csv));
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    if (f.size() < 3) continue;
    if (!p.rows.emplace(std::make_pair(f[0], f[1]), f[2]).second) ++p.duplicates;
  }
  return p;
}

size_t data_lines(const std::string& csv) {
  const auto lines = split_lines(read_file(csv));
  return lines.empty() ? 0 : lines.size() - 1;
}

// `timer`: the model runs on `timer.3m` only, not on every row.
std::string pipeline_yaml(const std::string& csv, bool timer = false) {
  return "name: busparity\n"
         "signal_generation:\n"
         "  mode: stream\n"
         "  warmup:\n"
         "    lookback_days: 1\n"
         "  scheduling:\n"
         "    interval: 1m\n"
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
         "      params: {universe: [BTCUSDT, ETHUSDT, SOLUSDT], interval: 1m}\n"
         "  - features:\n"
         "      using: features.momentum\n"
         "      inputs: {column: ohlcv.close}\n"
         "      outputs: {columns: [mom_10]}\n"
         "      params: {window: 10}\n"
         "  - features:\n"
         "      using: features.rsi\n"
         "      inputs: {column: ohlcv.close}\n"
         "      outputs: {columns: [rsi_14]}\n"
         "      params: {window: 14}\n"
         "  - features:\n"
         "      using: features.obv\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [obv]}\n"
         "  - model:\n"
         "      using: models.linear\n" +
         std::string(timer ? "      on: timer.3m\n" : "") +
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params:\n"
         "        features: [mom_10, rsi_14, obv]\n"
         "        weights: [-5.0, -0.04, 0.000001]\n"
         "        bias: 2.0\n"
         "        output_col: model.prediction\n";
}

// The value of the one sample `key` (name with its labels as written), or -1.
double sample(const std::string& text, const std::string& key) {
  for (const auto& line : split_lines(text)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ' ')
      return std::stod(line.substr(key.size() + 1));
  }
  return -1;
}

// Every backquoted name in the first column of the table under "| bus metric |".
std::set<std::string> bus_metrics_of_docs(const std::string& markdown) {
  std::set<std::string> out;
  const auto lines = split_lines(markdown);
  size_t i = 0;
  while (i < lines.size() && lines[i].rfind("| bus metric |", 0) != 0) ++i;
  const std::regex quoted("`([^`]+)`");
  for (i += 2; i < lines.size() && !lines[i].empty() && lines[i][0] == '|'; ++i) {
    const std::string first = split(lines[i].substr(1), '|')[0];
    for (std::sregex_iterator it(first.begin(), first.end(), quoted), end; it != end; ++it) out.insert((*it)[1]);
  }
  return out;
}

class SignalBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::nats_server_binary().empty()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh)";
    server_ = std::make_unique<NatsServer>(dir_ / "nats");
    std::filesystem::create_directories(dir_ / "nats");
    ASSERT_TRUE(server_->start()) << "nats-server did not start";
    auto options = nats::parse_bus_options(server_->url());
    ASSERT_TRUE(options) << options.error().message;
    auto c = nats::BusConnection::connect(*options);
    ASSERT_TRUE(c) << c.error().message;
    bus_ = std::move(*c);
    nats::StreamSpec spec;
    spec.name = "AF_BARS";
    spec.subjects = {"af.bars.>"};
    ASSERT_TRUE(nats::ensure_stream(*bus_, spec, true));
    publisher_ = std::make_unique<nats::Publisher>(*bus_, "AF_BARS");

    auto gen = run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                           " --symbols BTCUSDT,ETHUSDT,SOLUSDT --interval 1m --from 2024-01-01 --to 2024-01-04");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    // Every bar of the mirror, in (ts, symbol) order: what ingest would publish.
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ / "mirror")) {
      if (e.path().extension() != ".zip") continue;
      const std::string name = e.path().filename().string();
      const std::string symbol = name.substr(0, name.find('-'));
      auto bars = vision::read_vision_archive(e.path().string());
      ASSERT_TRUE(bars) << bars.error().message;
      for (const auto& b : *bars) bars_[{b.ts, symbol}] = b;
    }
    ASSERT_GT(bars_.size(), 4000u);
  }
  void TearDown() override {
    stop_publishing();
  }

  void publish(const std::pair<int64_t, std::string>& key, const Bar& bar) {
    nats::BarMessage m{{"binance_futures", "1m", key.second}, bar};
    auto r = nats::publish_bar(*publisher_, m);
    ASSERT_TRUE(r) << r.error().message;
  }
  // A bar as ingest publishes a live one: received from the exchange's stream.
  void publish_live(const std::pair<int64_t, std::string>& key, Bar bar) {
    bar.origin = BarOrigin::kStream;
    publish(key, bar);
  }
  // Every bar with ts < `until`.
  void publish_history(int64_t until) {
    for (const auto& [key, bar] : bars_) {
      if (key.first >= until) break;
      publish(key, bar);
    }
  }
  // Bars in [from, to) as live ones, one minute of bars every `pace`, on a thread of its own.
  void start_publishing(int64_t from, int64_t to, std::chrono::milliseconds pace) {
    publishing_ = std::thread([this, from, to, pace] {
      int64_t minute = -1;
      for (auto it = bars_.lower_bound({from, ""}); it != bars_.end() && it->first.first < to && !quit_; ++it) {
        if (it->first.first != minute) {
          if (minute >= 0) std::this_thread::sleep_for(pace);
          minute = it->first.first;
        }
        publish_live(it->first, it->second);
      }
      published_all_ = true;
    });
  }
  void stop_publishing() {
    quit_ = true;
    if (publishing_.joinable()) publishing_.join();
  }

  std::unique_ptr<ChildProcess> start_signal(const std::string& tag, std::vector<std::string> extra = {},
                                             const std::string& pipeline = "live.yaml",
                                             const std::string& state = "state") {
    std::vector<std::string> argv{kBinary,    "--log-level", "info", "signal", dir_ / pipeline, "--state-dir",
                                  dir_ / state, "--snapshot-every", "1", "--anchor-timeout", "30", "--bus",
                                  server_->url()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    // Nothing listens there: a contact with the exchange would fail the run.
    return std::make_unique<ChildProcess>(argv, dir_ / (tag + ".out"), dir_ / (tag + ".err"),
                                          std::vector<std::string>{"ALPHA_FORGE_BINANCE_BASE_URL=http://127.0.0.1:1"});
  }
  // The durable consumer is there once the service logs it: "live" bars published
  // from then on reach it.
  static bool consumer_bound(ChildProcess& p, const std::string& shard = "all") {
    return p.err().find("live bars from consumer af_busparity_binance_futures_1m_s0_" + shard) != std::string::npos;
  }
  void stop_signal(ChildProcess& p) {
    p.signal(SIGTERM);
    ASSERT_EQ(p.wait(kLong), 0) << p.err();
    ASSERT_NE(p.out().find("Signal generation completed"), std::string::npos) << p.out();
  }
  static std::string anchor_of(const std::string& out) {
    std::smatch m;
    return std::regex_search(out, m, std::regex("Signal generation completed: anchor=(\\S+)")) ? m[1].str() : "";
  }

  // Every live prediction once, equal to replay's over [anchor, to).
  // `timer`: the pipeline_yaml(csv, true) variant, compared per symbol up to its
  // newest live record (the last ticks wait for a bar that never comes).
  void expect_replay_equal(const std::string& anchor, int64_t to, const Predictions& live, bool timer = false) {
    ASSERT_EQ(live.duplicates, 0u) << "a (ts, symbol) was written twice";
    const std::string csv = dir_ / "replay.csv";
    write_file(dir_ / "replay.yaml", pipeline_yaml(csv, timer));
    auto r = run_command(kBinary + " replay " + (dir_ / "replay.yaml") + " --data " + (dir_ / "mirror") +
                         " --from " + anchor + " --to " + format_iso8601(to));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Predictions replayed = read_predictions(csv);
    if (timer) {
      std::map<std::string, std::string> newest;
      for (const auto& [key, v] : live.rows) newest[key.second] = std::max(newest[key.second], key.first);
      std::erase_if(replayed.rows, [&](const auto& row) { return row.first.first > newest[row.first.second]; });
    }
    ASSERT_FALSE(replayed.rows.empty());
    size_t diffs = 0;
    for (const auto& [key, v] : replayed.rows) {
      auto it = live.rows.find(key);
      if (it == live.rows.end()) {
        ADD_FAILURE() << "live has no prediction for " << key.first << " " << key.second;
      } else if (it->second != v) {
        ADD_FAILURE() << key.first << " " << key.second << ": live " << it->second << " replay " << v;
      } else {
        continue;
      }
      if (++diffs > 5) break;
    }
    EXPECT_EQ(live.rows.size(), replayed.rows.size());
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> server_;
  std::unique_ptr<nats::BusConnection> bus_;
  std::unique_ptr<nats::Publisher> publisher_;
  std::map<std::pair<int64_t, std::string>, Bar> bars_;
  std::thread publishing_;
  std::atomic<bool> quit_{false}, published_all_{false};
};

const int64_t kT0 = *parse_iso8601("2024-01-02T06:00:00Z");

TEST_F(SignalBusTest, PredictionsEqualReplayOverTheSameBars) {
  publish_history(kT0);
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv));
  auto p = start_signal("live", {"--metrics-port", "0"});
  ASSERT_TRUE(wait_until([&] { return consumer_bound(*p) || !p->running(); }, kLong)) << p->err();
  ASSERT_TRUE(p->running()) << p->err();
  const int64_t end = kT0 + 120 * kMinuteMs;
  start_publishing(kT0, end, std::chrono::milliseconds(20));
  ASSERT_TRUE(wait_until([&] { return (published_all_ && data_lines(csv) >= 360) || !p->running(); }, kLong))
      << p->err();
  // The bus metrics, against the table of docs/operations.md both ways.
  std::smatch m;
  const std::string out = p->out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("metrics (http://\\S+/metrics)"))) << out;
  const std::string url = m[1].str();
  std::string text;
  // Acks and the pending count come at settled moments and every 5 s: wait for them.
  ASSERT_TRUE(wait_until(
      [&] {
        text = run_command("curl -sf " + url).out;
        return sample(text, "af_bus_bars_acked_total{source=\"data.binance_futures_1m\"}") >= 360 &&
               sample(text, "af_bus_consumer_pending{source=\"data.binance_futures_1m\"}") == 0;
      },
      std::chrono::seconds(20)))
      << text;
  EXPECT_GE(sample(text, "af_bus_bars_received_total{source=\"data.binance_futures_1m\"}"), 360) << text;
  EXPECT_EQ(sample(text, "af_bus_bars_redelivered_total{source=\"data.binance_futures_1m\"}"), 0) << text;
  EXPECT_EQ(sample(text, "af_bus_bad_messages_total{source=\"data.binance_futures_1m\"}"), 0) << text;
  EXPECT_EQ(sample(text, "af_bus_connected{source=\"data.binance_futures_1m\"}"), 1) << text;
  const auto documented = bus_metrics_of_docs(read_file(std::string(AF_SOURCE_DIR) + "/docs/operations.md"));
  ASSERT_FALSE(documented.empty()) << "the bus metrics table of docs/operations.md was not found";
  std::set<std::string> exported;
  for (const auto& line : split_lines(text)) {
    if (line.rfind("af_bus_", 0) == 0) exported.insert(line.substr(0, line.find_first_of("{ ")));
  }
  EXPECT_EQ(exported, documented);
  stop_signal(*p);
  const std::string anchor = anchor_of(p->out());
  EXPECT_EQ(anchor, format_iso8601(kT0)) << p->out();
  EXPECT_NE(p->out().find("live_bars=360"), std::string::npos) << p->out();
  // History [A - 1 day, A) from the stream, by start time.
  EXPECT_NE(p->err().find("history from 2024-01-01T06:00:00Z"), std::string::npos) << p->err();
  EXPECT_NE(p->err().find("first=2024-01-01T06:00:00Z"), std::string::npos) << p->err();
  const Predictions live = read_predictions(csv);
  ASSERT_FALSE(live.rows.empty());
  EXPECT_EQ(live.rows.begin()->first.first, anchor);
  expect_replay_equal(anchor, end, live);
}

// kill -9 mid-run, restart on the same state directory while bars keep coming:
// the sink holds every prediction exactly once, none missing, equal to replay.
TEST_F(SignalBusTest, KillNineAndRestartLosesNothingAndDoublesNothing) {
  publish_history(kT0);
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv));
  auto first = start_signal("first");
  ASSERT_TRUE(wait_until([&] { return consumer_bound(*first) || !first->running(); }, kLong)) << first->err();
  const int64_t end = kT0 + 300 * kMinuteMs;
  start_publishing(kT0, end, std::chrono::milliseconds(30));
  ASSERT_TRUE(wait_until([&] { return data_lines(csv) >= 80 || !first->running(); }, kLong)) << first->err();
  ASSERT_TRUE(first->running()) << first->err();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a snapshot after some live bars
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(kLong), 128 + SIGKILL);
  const size_t rows_at_kill = data_lines(csv);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // bars go on arriving on the bus meanwhile

  auto second = start_signal("second");
  ASSERT_TRUE(wait_until([&] { return (published_all_ && data_lines(csv) >= 900) || !second->running(); }, kLong))
      << second->err() << "\nrows at kill " << rows_at_kill << ", now " << data_lines(csv);
  stop_signal(*second);
  EXPECT_NE(second->err().find("snapshot restored"), std::string::npos) << second->err();
  EXPECT_NE(second->out().find("restored=1"), std::string::npos) << second->out();
  const std::string anchor = anchor_of(second->out());
  EXPECT_EQ(anchor, format_iso8601(kT0)) << second->out();
  const Predictions live = read_predictions(csv);
  EXPECT_EQ(live.rows.size(), 900u);
  expect_replay_equal(anchor, end, live);
}

// --shard 1/2 (BTCUSDT, ETHUSDT by FNV-1a) and 2/2 (SOLUSDT) at once, each with its
// own durable consumer: each writes only its symbols, and the union equals replay
// over every symbol (the unsharded run, as the parity test shows).
TEST_F(SignalBusTest, ShardsTogetherEqualTheUnshardedRun) {
  publish_history(kT0);
  write_file(dir_ / "s1.yaml", pipeline_yaml(dir_ / "s1.csv"));
  write_file(dir_ / "s2.yaml", pipeline_yaml(dir_ / "s2.csv"));
  auto s1 = start_signal("s1", {"--shard", "1/2"}, "s1.yaml", "state1");
  auto s2 = start_signal("s2", {"--shard", "2/2"}, "s2.yaml", "state2");
  ASSERT_TRUE(wait_until([&] { return (consumer_bound(*s1, "1of2") && consumer_bound(*s2, "2of2")) ||
                                      !s1->running() || !s2->running(); },
                         kLong))
      << s1->err() << s2->err();
  const int64_t end = kT0 + 60 * kMinuteMs;
  start_publishing(kT0, end, std::chrono::milliseconds(20));
  ASSERT_TRUE(wait_until([&] { return (published_all_ && data_lines(dir_ / "s1.csv") >= 120 &&
                                       data_lines(dir_ / "s2.csv") >= 60) || !s1->running() || !s2->running(); },
                         kLong))
      << s1->err() << s2->err();
  stop_signal(*s1);
  stop_signal(*s2);
  const Predictions p1 = read_predictions(dir_ / "s1.csv");
  const Predictions p2 = read_predictions(dir_ / "s2.csv");
  Predictions all = p1;
  for (const auto& [key, v] : p1.rows) EXPECT_NE(key.second, "SOLUSDT") << "shard 1/2 computed " << key.second;
  for (const auto& [key, v] : p2.rows) {
    EXPECT_EQ(key.second, "SOLUSDT") << "shard 2/2 computed " << key.second;
    if (!all.rows.emplace(key, v).second) ++all.duplicates;
  }
  EXPECT_EQ(all.rows.size(), 180u);
  expect_replay_equal(format_iso8601(kT0), end, all);
}

// A shard started while ingest still fills the stream with its first history: the
// durable consumer (deliver "new") receives those history bars first (archive,
// then REST at the seam). The shard anchors on the first bar ingest published
// live (from the exchange's stream), not on a weeks-old history bar, whose warmup
// would reach before the stream's history: history bars before it are acked and
// skipped, the history read takes them from the stream by time, and the
// predictions begin at the first live bar and equal replay's.
TEST_F(SignalBusTest, AShardStartedDuringTheFirstHistoryFillAnchorsOnTheFirstLiveBar) {
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv));
  auto p = start_signal("live", {"--metrics-port", "0"});
  ASSERT_TRUE(wait_until([&] { return consumer_bound(*p) || !p->running(); }, kLong)) << p->err();
  // The history fill, as ingest publishes it: the archive, then the last half hour over REST.
  size_t history = 0;
  for (const auto& [key, bar] : bars_) {
    if (key.first >= kT0) break;
    Bar b = bar;
    if (key.first >= kT0 - 30 * kMinuteMs) b.origin = BarOrigin::kRest;
    publish(key, b);
    ++history;
  }
  const int64_t end = kT0 + 60 * kMinuteMs;
  start_publishing(kT0, end, std::chrono::milliseconds(20));
  ASSERT_TRUE(wait_until([&] { return (published_all_ && data_lines(csv) >= 180) || !p->running(); }, kLong))
      << p->err();
  stop_signal(*p);
  EXPECT_EQ(anchor_of(p->out()), format_iso8601(kT0)) << p->out();
  EXPECT_NE(p->err().find("skipped " + std::to_string(history) + " bars ingest published as history before its "
                          "first live one"),
            std::string::npos)
      << p->err();
  EXPECT_NE(p->err().find("history from 2024-01-01T06:00:00Z"), std::string::npos) << p->err();
  const Predictions live = read_predictions(csv);
  ASSERT_FALSE(live.rows.empty());
  EXPECT_EQ(live.rows.begin()->first.first, format_iso8601(kT0));
  EXPECT_EQ(live.rows.size(), 180u);
  expect_replay_equal(format_iso8601(kT0), end, live);
}

// Timers on the bus (docs/scale-out.md, "Timers"): the bus feed has no clock, so a
// symbol's tick fires only before its next bar. SOLUSDT's bars pause for half an
// hour while the others' go on: no SOLUSDT tick fires meanwhile; when its bars
// come back, every tick it missed fires, in order, and every record equals
// replay's (whose clock moved on with the other symbols' bars).
TEST_F(SignalBusTest, TimerTicksOnTheBusWaitForTheSymbolsNextBarThenEqualReplay) {
  publish_history(kT0);
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv, true));
  auto p = start_signal("live");
  ASSERT_TRUE(wait_until([&] { return consumer_bound(*p) || !p->running(); }, kLong)) << p->err();
  const int64_t pause = kT0 + 30 * kMinuteMs, end = kT0 + 60 * kMinuteMs;
  for (auto it = bars_.lower_bound({kT0, ""}); it != bars_.end() && it->first.first < end; ++it) {
    if (it->first.second != "SOLUSDT" || it->first.first < pause) publish_live(it->first, it->second);
  }
  auto newest = [&](const std::string& symbol) {
    std::string n;
    for (const auto& [key, v] : read_predictions(csv).rows)
      if (key.second == symbol) n = std::max(n, key.first);
    return n;
  };
  // BTCUSDT's last tick (06:57 + the 1 min buffer) fires before its bar of 06:58 or 06:59, published.
  ASSERT_TRUE(wait_until([&] { return newest("BTCUSDT") >= "2024-01-02T06:57:00Z" || !p->running(); }, kLong))
      << p->err();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // time for a tick by any clock to show
  EXPECT_LT(newest("SOLUSDT"), format_iso8601(pause)) << "a SOLUSDT tick fired without its bar";
  for (auto it = bars_.lower_bound({pause, ""}); it != bars_.end() && it->first.first < end; ++it) {
    if (it->first.second == "SOLUSDT") publish_live(it->first, it->second);
  }
  ASSERT_TRUE(wait_until([&] { return newest("SOLUSDT") >= newest("BTCUSDT") || !p->running(); }, kLong))
      << p->err();
  stop_signal(*p);
  const Predictions live = read_predictions(csv);
  for (const auto& [key, v] : live.rows) EXPECT_EQ(*parse_iso8601(key.first) % (3 * kMinuteMs), 0) << key.first;
  // Ticks at 06:00 to 06:57 (+ the 1 min buffer), each labelled with its boundary's bar.
  EXPECT_EQ(live.rows.size(), 3u * 20);
  expect_replay_equal(format_iso8601(kT0), end, live, true);
}

// Messages on a shard's subjects that are not bars it can take, published straight
// into the stream mid-run: each is logged once as an error naming the subject and
// the stream sequence (its problem cut short), counted, terminated (not left for
// redelivery), and the good bars after them predict as replay does. A future-dated
// bar would otherwise move the symbol's high-water mark past every real bar, and a
// bar off the 1m grid would predict at a time replay never does.
TEST_F(SignalBusTest, HostileMessagesAreLoggedCountedTerminatedAndDoNotStopTheShard) {
  publish_history(kT0);
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv));
  auto p = start_signal("live", {"--metrics-port", "0"});
  ASSERT_TRUE(wait_until([&] { return consumer_bound(*p) || !p->running(); }, kLong)) << p->err();
  const int64_t middle = kT0 + 20 * kMinuteMs, end = kT0 + 60 * kMinuteMs;
  for (auto it = bars_.lower_bound({kT0, ""}); it != bars_.end() && it->first.first < middle; ++it)
    publish_live(it->first, it->second);
  ASSERT_TRUE(wait_until([&] { return data_lines(csv) >= 60 || !p->running(); }, kLong)) << p->err();

  const std::string subject = "af.bars.binance_futures.1m.";
  auto bar_json = [&](const std::string& symbol, int64_t ts) {
    Bar b = bars_.at({kT0, symbol});
    b.ts = ts;
    b.origin = BarOrigin::kStream;
    return *nats::encode_bar({{"binance_futures", "1m", symbol}, b});
  };
  std::string huge = bar_json("SOLUSDT", middle);
  huge.replace(huge.find("\"SOLUSDT\""), 9, "\"" + std::string(900'000, 'S') + "\"");
  std::string negative = bar_json("ETHUSDT", middle);
  negative.replace(negative.find(std::to_string(middle)), std::to_string(middle).size(), "-60000");
  struct Hostile {
    std::string symbol, payload, problem;
  };
  const std::vector<Hostile> hostile{
      {"BTCUSDT", "not json {", "bar payload: not JSON"},
      {"ETHUSDT", "{\"v\":1,\"source\":\"binance_futures\"}", "bar payload: field 'interval': missing"},
      {"SOLUSDT", huge, "more bytes)"},
      {"BTCUSDT", bar_json("ETHUSDT", middle), "holds a bar of af.bars.binance_futures.1m.ETHUSDT"},
      {"ETHUSDT", negative, "bar payload: field 'open_time_ms': negative"},
      {"BTCUSDT", bar_json("BTCUSDT", *parse_iso8601("2100-01-01T00:00:00Z")),
       "bar of 2100-01-01T00:00:00Z closes after the stream stored it"},
      {"SOLUSDT", bar_json("SOLUSDT", middle + 30'000), "open time 2024-01-02T06:20:30Z is not on the 1m grid"},
  };
  std::vector<uint64_t> sequences;
  for (size_t i = 0; i < hostile.size(); ++i) {
    auto ack = publisher_->publish(subject + hostile[i].symbol, "hostile-" + std::to_string(i), hostile[i].payload);
    ASSERT_TRUE(ack) << ack.error().message;
    sequences.push_back(ack->sequence);
  }
  for (auto it = bars_.lower_bound({middle, ""}); it != bars_.end() && it->first.first < end; ++it)
    publish_live(it->first, it->second);
  ASSERT_TRUE(wait_until([&] { return data_lines(csv) >= 180 || !p->running(); }, kLong)) << p->err();
  ASSERT_TRUE(p->running()) << p->err();

  const std::string err = p->err();
  for (size_t i = 0; i < hostile.size(); ++i) {
    const std::string place = "bad bar message on " + subject + hostile[i].symbol + " (stream AF_BARS sequence " +
                              std::to_string(sequences[i]) + "): ";
    const size_t at = err.find(place);
    ASSERT_NE(at, std::string::npos) << place << "\n" << err.substr(0, 20'000);
    EXPECT_EQ(err.find(place, at + 1), std::string::npos) << "logged twice: " << place;
    const std::string line = err.substr(at, err.find('\n', at) - at);
    EXPECT_NE(line.find(hostile[i].problem), std::string::npos) << line.substr(0, 1000);
    EXPECT_LT(line.size(), 1000u) << "a hostile payload's log line is cut short";
  }
  std::smatch m;
  const std::string out = p->out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("metrics (http://\\S+/metrics)"))) << out;
  const std::string url = m[1].str();
  std::string text;
  // Every message settled: the bad ones terminated, the good ones acked; none waits for redelivery.
  ASSERT_TRUE(wait_until(
      [&] {
        text = run_command("curl -sf " + url).out;
        jsConsumerInfo* info = nullptr;
        if (js_GetConsumerInfo(&info, bus_->jetstream(), "AF_BARS", "af_busparity_binance_futures_1m_s0_all", nullptr,
                               nullptr) != NATS_OK)
          return false;
        const bool settled = info->NumAckPending == 0 && info->NumPending == 0;
        jsConsumerInfo_Destroy(info);
        return settled;
      },
      std::chrono::seconds(20)))
      << text;
  EXPECT_EQ(sample(text, "af_bus_bad_messages_total{source=\"data.binance_futures_1m\"}"), 7) << text;
  EXPECT_EQ(sample(text, "af_bus_bars_redelivered_total{source=\"data.binance_futures_1m\"}"), 0) << text;
  stop_signal(*p);
  expect_replay_equal(format_iso8601(kT0), end, read_predictions(csv));
}

}  // namespace
}  // namespace af

namespace af {
namespace {

// No server at the URL: a clear error naming the URL (its credentials hidden),
// retried with a growing wait until the anchor timeout, then a failure.
// A shard started before its ingest finds no stream: it waits for it (as for a bus
// that is down) up to the anchor timeout, saying what it waits for, instead of
// failing at once (found by scripts/demo_cluster.sh, which starts them together).
TEST_F(SignalBusTest, WaitsForAStreamNotYetCreatedUpToTheAnchorTimeout) {
  write_file(dir_ / "live.yaml", pipeline_yaml(dir_ / "live.csv"));
  auto r = run_command(kBinary + " signal " + (dir_ / "live.yaml") + " --anchor-timeout 3 --bus-stream AF_LATER --bus " +
                       server_->url());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("stream AF_LATER not found (it is created by `alpha_forge ingest`); waiting for it; retrying"),
            std::string::npos)
      << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("error: [^\\n]*stream AF_LATER not found[^\\n]*\\(gave up after (\\d+) "
                                                     "attempts in 3 s, the anchor timeout\\)")))
      << r.err;
  EXPECT_GE(std::stoi(m[1].str()), 2) << r.err;
}

TEST(SignalBusNoServerTest, NamesTheRedactedUrlRetriesThenFails) {
  if (testing::nats_server_binary().empty()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh)";
  TempDir dir;
  write_file(dir / "live.yaml", pipeline_yaml(dir / "live.csv"));
  const int port = testing::free_loopback_port();
  const std::string hidden = "nats://***@127.0.0.1:" + std::to_string(port);
  auto r = run_command(kBinary + " signal " + (dir / "live.yaml") + " --anchor-timeout 3 --bus nats://alice:s3cret@127.0.0.1:" +
                       std::to_string(port));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NATS: connect to " + hidden + ": "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("; retrying in 500 ms (attempt 1)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("; retrying in 1000 ms (attempt 2)"), std::string::npos) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("error: NATS: connect to [^\\n]*\\(gave up after (\\d+) attempts in 3 s, "
                                                     "the anchor timeout\\)")))
      << r.err;
  EXPECT_GE(std::stoi(m[1].str()), 3) << r.err;
}

}  // namespace
}  // namespace af
