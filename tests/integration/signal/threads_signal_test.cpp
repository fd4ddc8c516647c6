// `signal --threads N` against the simulated exchange (issue 15 item 2): the
// symbols split over compute threads, a snapshot written by 2 threads resumed by
// 1 and then by 3, and every prediction of the three runs equal to `replay` over
// the same period, each (ts, symbol) once. The pipeline resamples 1m bars to 5m,
// so a snapshot holds half-built buckets of several symbols.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/signal_scenario.hpp"

namespace af {
namespace {

using testing::ChildProcess;
using testing::read_csv_predictions;
using testing::run_command;
using testing::SimMarket;
using testing::SimMarketOptions;
using testing::TempDir;
using testing::write_file;
using namespace std::chrono_literals;

const std::string kBinary = testing::kAlphaForge;
const std::vector<std::string> kSymbols{"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT"};

std::string pipeline(const std::string& csv) {
  std::string universe;
  for (const auto& s : kSymbols) universe += (universe.empty() ? "" : ", ") + s;
  return "name: threads\n"
         "signal_generation:\n"
         "  mode: stream\n"
         "  warmup: {lookback_days: 1}\n"
         "  scheduling: {interval: 5m, buffer_minutes: 1}\n"
         "  on_prediction:\n"
         "    - using: sinks.csv_append\n"
         "      params: {path: " + csv + ", dedup_key: [ts, symbol]}\n"
         "pipeline:\n"
         "  - data:\n"
         "      using: data.binance_futures\n"
         "      outputs: {frame: ohlcv}\n"
         "      params: {universe: [" + universe + "], interval: 1m}\n"
         "  - transform:\n"
         "      using: transforms.resample\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {frame: bars_5m}\n"
         "      params: {target_freq: 5m}\n"
         "  - features:\n"
         "      using: features.rsi\n"
         "      inputs: {column: bars_5m.close}\n"
         "      outputs: {columns: [rsi_14]}\n"
         "      params: {window: 14}\n"
         "  - features:\n"
         "      using: features.obv\n"
         "      inputs: {frame: bars_5m}\n"
         "      outputs: {columns: [obv]}\n"
         "  - model:\n"
         "      using: models.linear\n"
         "      inputs: {frame: bars_5m}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params: {features: [rsi_14, obv], weights: [-0.04, 0.000001], bias: 2.0,"
         " output_col: model.prediction}\n";
}

class ThreadsSignalTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChildProcess> start(SimMarket& market, const std::string& tag, const std::string& threads) {
    return testing::start_signal(dir_ / "p.yaml", market, dir_ / tag,
                                 {"--threads", threads, "--state-dir", dir_ / "state", "--snapshot-every", "1",
                                  "--anchor-timeout", "30"});
  }
  TempDir dir_;
};

TEST_F(ThreadsSignalTest, SnapshotOfTwoThreadsResumesWithOneAndWithThreeAndEqualsReplay) {
  SimMarket market;
  SimMarketOptions mo;
  mo.symbols = kSymbols;
  mo.from = "2024-01-08";
  mo.to = "2024-01-14";
  ASSERT_EQ(market.start(dir_.path().string(), mo), "");
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "p.yaml", pipeline(csv));

  std::string anchor;
  size_t rows = 0;
  int run = 0;
  for (const std::string threads : {"2", "1", "3"}) {
    SCOPED_TRACE("--threads " + threads);
    auto p = start(market, "run" + std::to_string(run), threads);
    // Each run makes at least four more 5m predictions per symbol.
    ASSERT_TRUE(testing::wait_for_predictions(*p, csv, rows + 4 * kSymbols.size())) << p->err();
    std::this_thread::sleep_for(300ms);  // part of the next bucket is in when it stops
    ASSERT_EQ(testing::stop_service(*p, run == 1 ? SIGTERM : SIGINT), 0) << p->err();
    EXPECT_NE(p->err().find("compute threads: " + threads), std::string::npos) << p->err();
    if (run == 0) {
      anchor = testing::anchor_of(p->out());
      ASSERT_FALSE(anchor.empty()) << p->out();
    } else {
      EXPECT_NE(p->err().find("snapshot restored"), std::string::npos) << p->err();
      EXPECT_EQ(testing::anchor_of(p->out()), anchor) << "the snapshot's anchor";
    }
    rows = testing::csv_rows(csv);
    ++run;
  }
  market.stop();

  const auto live = read_csv_predictions(csv);
  ASSERT_EQ(live.duplicates, 0u);
  std::string last = live.rows.begin()->first.first;
  for (const auto& [key, v] : live.rows) last = std::max(last, key.first);
  write_file(dir_ / "replay.yaml", pipeline(dir_ / "replay.csv"));
  auto r = run_command(kBinary + " replay " + (dir_ / "replay.yaml") + " --data " + (dir_ / "mirror") + " --from " +
                       anchor + " --to " + format_iso8601(*parse_iso8601(last) + 5 * 60'000));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto replayed = read_csv_predictions(dir_ / "replay.csv");
  // Each symbol up to its own newest live prediction (the last stop may fall between symbols).
  std::map<std::string, std::string> newest;
  for (const auto& [key, v] : live.rows) newest[key.second] = std::max(newest[key.second], key.first);
  ASSERT_EQ(newest.size(), kSymbols.size());
  std::erase_if(replayed.rows, [&](const auto& row) { return row.first.first > newest[row.first.second]; });
  EXPECT_EQ(live.rows.size(), replayed.rows.size());
  size_t diffs = 0;
  for (const auto& [key, v] : replayed.rows) {
    const auto it = live.rows.find(key);
    if (it == live.rows.end() || it->second != v) {
      if (++diffs <= 5)
        ADD_FAILURE() << key.first << " " << key.second << ": live "
                      << (it == live.rows.end() ? std::string("missing") : it->second) << " replay " << v;
    }
  }
  EXPECT_EQ(diffs, 0u);
  ::testing::Test::RecordProperty("predictions", static_cast<int>(live.rows.size()));
}

TEST_F(ThreadsSignalTest, BadThreadCountsAreRefusedInOneLine) {
  write_file(dir_ / "p.yaml", pipeline(dir_ / "x.csv"));
  for (const std::string bad : {"0", "-1", "two", "100000"}) {
    auto r = run_command(kBinary + " signal " + (dir_ / "p.yaml") + " --threads " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace af
