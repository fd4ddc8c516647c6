// Issue 15 item 3, live: `alpha_forge signal` runs the bilstm example (15m -> 2h,
// its 13 features, the BiLSTM) against the simulated exchange; the model runs of
// each 2h close are deferred and run as a batch when the feed's queue is empty.
// Every live prediction must equal replay's over the same mirror (which, batched
// or not, writes the same bytes: tests/integration/replay/bilstm_batch_test.cpp),
// and the service must say its live rows went through batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "support/signal_scenario.hpp"

namespace af {
namespace {

using testing::anchor_of;
using testing::read_csv_predictions;
using testing::read_file;
using testing::run_command;
using testing::SimMarket;
using testing::TempDir;
using testing::write_file;

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// "model runs batched across symbols (<until>): N runs ..." -> N, or -1.
long batched_runs(const std::string& log, const std::string& until) {
  std::smatch m;
  const std::regex re("model runs batched across symbols \\(" + until + "\\): (\\d+) runs");
  return std::regex_search(log, m, re) ? std::stol(m[1].str()) : -1;
}

TEST(BatchSignal, BilstmExampleLiveEqualsReplay) {
  TempDir dir;
  const char* src = std::getenv("AF_SOURCE_DIR");
  const std::string root = src ? src : AF_SOURCE_ROOT;
  SimMarket market;
  testing::SimMarketOptions o;
  o.symbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};
  o.interval = "15m";
  o.from = "2024-01-01";
  o.to = "2024-01-25";
  o.start = "2024-01-15T00:07:00Z";
  o.speed = 36'000;  // a 2h close every 0.2 s
  o.faults = "duplicate=0.05,late_close=0.05,seed=3";
  ASSERT_EQ(market.start(dir.path().string(), o), "");

  // The example as shipped (its universe is these four symbols), ten days of warmup.
  std::string yaml = read_file(root + "/examples/models/bilstm_example.yaml");
  yaml = replace(yaml, "lookback_days: 90", "lookback_days: 10");
  yaml = replace(yaml, "checkpoint_dir: examples/models/bilstm_unified",
                 "checkpoint_dir: " + root + "/examples/models/bilstm_unified");
  const std::string csv = dir / "live.csv";
  write_file(dir / "live.yaml", replace(yaml, "path: outputs/predictions/bilstm_example.csv", "path: " + csv));

  auto p = testing::start_signal(dir / "live.yaml", market, dir / "live",
                                 {"--state-dir", dir / "state", "--snapshot-every", "1", "--anchor-timeout", "20"});
  ASSERT_TRUE(p->started());
  ASSERT_TRUE(testing::wait_for_predictions(*p, csv, 4 * 12)) << p->err();
  ASSERT_TRUE(p->running()) << p->err();
  ASSERT_EQ(testing::stop_service(*p, SIGTERM), 0) << p->err();
  ASSERT_NE(p->out().find("Signal generation completed"), std::string::npos) << p->out();
  const std::string anchor = anchor_of(p->out());
  ASSERT_FALSE(anchor.empty()) << p->out();

  // Every 2h row went through the batch, live too: most of the 48 predictions
  // waited for (at least) 8 streamed 2h closes, the first few came with warmup.
  const long warmup_runs = batched_runs(p->err(), "warmup");
  const long all_runs = batched_runs(p->err(), "run");
  EXPECT_GT(warmup_runs, 0) << p->err();
  EXPECT_GE(all_runs - warmup_runs, 4 * 8) << p->err();

  const testing::CsvPredictions live = read_csv_predictions(csv);
  ASSERT_EQ(live.duplicates, 0u);
  std::map<std::string, std::string> newest;
  for (const auto& [key, v] : live.rows) newest[key.second] = std::max(newest[key.second], key.first);
  std::string last;
  for (const auto& [sym, ts] : newest) last = std::max(last, ts);
  const std::string replay_csv = dir / "replay.csv";
  write_file(dir / "replay.yaml", replace(yaml, "path: outputs/predictions/bilstm_example.csv", "path: " + replay_csv));
  auto r = run_command(testing::kAlphaForge + " replay " + (dir / "replay.yaml") + " --data " + (dir / "mirror") +
                       " --from " + anchor + " --to " + format_iso8601(*parse_iso8601(last) + 2 * kHourMs));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  testing::CsvPredictions replayed = read_csv_predictions(replay_csv);
  // Each symbol up to its own newest live prediction (the stop came at some moment).
  std::erase_if(replayed.rows, [&](const auto& row) { return row.first.first > newest[row.first.second]; });
  ASSERT_EQ(replayed.rows.size(), live.rows.size()) << r.out;
  size_t diffs = 0;
  for (const auto& [key, v] : replayed.rows) {
    auto it = live.rows.find(key);
    if (it == live.rows.end() || it->second != v) {
      ADD_FAILURE() << key.first << " " << key.second << ": live "
                    << (it == live.rows.end() ? std::string("(none)") : it->second) << " replay " << v;
      if (++diffs > 5) break;
    }
  }
}

}  // namespace
}  // namespace af
