// Issue 15 item 3: replay batches the bilstm example's model across the symbols of
// each close (Engine::set_model_batching). The same replay with per-symbol runs
// (AF_MODEL_BATCHING=0) must write the same bytes: the printed predictions, the
// CSV sink's rows (all but emitted_at, a wall clock) in the same order, and the
// dumped 2h frame with the model's column.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "support/process.hpp"

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The CSV sink's rows without their last column (emitted_at, the wall clock).
std::string without_emitted_at(const std::string& csv) {
  std::string out;
  for (const auto& line : split_lines(read_file(csv))) {
    out += line.substr(0, line.rfind(','));
    out += '\n';
  }
  return out;
}

// The `ts symbol prediction` lines --print wrote.
std::string printed_predictions(const std::string& out) {
  std::string kept;
  for (const auto& line : split_lines(out))
    if (split(line, ' ').size() == 3 && line.find('T') == 10) kept += line + '\n';
  return kept;
}

TEST(BilstmBatch, ReplayBatchedAcrossSymbolsWritesWhatPerSymbolRunsWrite) {
  TempDir dir;
  const char* src = std::getenv("AF_SOURCE_DIR");
  const std::string root = src ? src : AF_SOURCE_ROOT;
  auto gen = run_command(kBinary + " synth-data --out " + (dir / "mirror") +
                         " --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT --interval 15m --from 2024-01-01 --to 2024-01-25");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  // The example as shipped, with ten days of warmup (91 rows of 2h are enough).
  std::string yaml = read_file(root + "/examples/models/bilstm_example.yaml");
  yaml = replace(yaml, "lookback_days: 90", "lookback_days: 10");
  yaml = replace(yaml, "checkpoint_dir: examples/models/bilstm_unified",
                 "checkpoint_dir: " + root + "/examples/models/bilstm_unified");

  struct Run {
    std::string printed, csv, dump, err;
  };
  auto replay = [&](const std::string& tag, const std::string& env) {
    Run r;
    const std::string csv = dir / (tag + ".csv");
    const std::string dump = dir / (tag + "_2h.csv");
    write_file(dir / (tag + ".yaml"), replace(yaml, "path: outputs/predictions/bilstm_example.csv", "path: " + csv));
    auto c = run_command(env + " " + kBinary + " --log-level info replay " + (dir / (tag + ".yaml")) + " --data " +
                         (dir / "mirror") + " --from 2024-01-12 --print --dump ohlcv_2h=" + dump);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    r.printed = printed_predictions(c.out);
    r.csv = without_emitted_at(csv);
    r.dump = read_file(dump);
    r.err = c.err;
    return r;
  };
  const Run batched = replay("batched", "AF_MODEL_BATCHING=1");
  const Run single = replay("single", "AF_MODEL_BATCHING=0");
  // 4 symbols x 13 days x 12 bars of 2h, each predicted.
  EXPECT_EQ(split_lines(batched.printed).size(), 4u * 13u * 12u) << batched.err;
  EXPECT_EQ(batched.printed, single.printed);
  EXPECT_EQ(batched.csv, single.csv);
  EXPECT_EQ(batched.dump, single.dump);
  // The batched run did batch: one flush per 2h close over the four symbols.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(batched.err, m,
                                std::regex("model runs batched across symbols: (\\d+) runs in (\\d+) batches, up to (\\d+) "
                                           "rows per flush")))
      << batched.err;
  EXPECT_GT(std::stoul(m[1].str()), 4u * 13u * 12u);  // warmup rows too
  EXPECT_EQ(std::stoul(m[3].str()), 4u);
  EXPECT_EQ(single.err.find("model runs batched"), std::string::npos) << single.err;
}

}  // namespace
}  // namespace af
