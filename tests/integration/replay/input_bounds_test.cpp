// Hostile or careless input through the command line (issue 12 items 11, 13, 15):
// each case is one clear line naming the place and exit code 2, never a crash or
// a file written outside the tree.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/process.hpp"

namespace af {
namespace {

using testing::run_command;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

TEST(InputBounds, SynthDataRefusesSymbolsThatLeaveTheTree) {
  TempDir dir;
  const std::string out = dir / "mirror";
  auto r = run_command(kBinary + " synth-data --out " + out +
                       " --symbols BTCUSDT,../../evil --from 2025-01-01 --to 2025-01-02");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err,
            "error: --symbols: '../../evil' is not an exchange symbol: upper-case letters and digits (A-Z 0-9, '_' "
            "inside), 1 to 20 characters\n");
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "evil"));
  EXPECT_FALSE(std::filesystem::exists(dir.path().parent_path() / "evil"));

  r = run_command(kBinary + " synth-data --out " + out + " --symbols BTCUSDT,BTCUSDT --from 2025-01-01 --to 2025-01-02");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "error: --symbols: 'BTCUSDT' is listed twice\n");
}

TEST(InputBounds, ValidateRefusesDevZero) {
  auto r = run_command(kBinary + " validate /dev/zero");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/dev/zero: error: cannot read file: not a regular file"), std::string::npos) << r.err;
}

TEST(InputBounds, TwentyDigitPortIsALocatedError) {
  TempDir dir;
  write_file(dir / "p.yaml", R"(name: port
signal_generation:
  warmup: {lookback_days: 2}
  scheduling: {interval: 1h}
  on_prediction:
    - using: sinks.clickhouse
      params: {url: "http://127.0.0.1:99999999999999999999", table_name: t}
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params: {universe: [BTCUSDT], interval: 1h}
  - features:
      using: features.momentum
      inputs: {column: ohlcv.close}
      outputs: {columns: [mom_3]}
      params: {window: 3}
  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [pred]}
      params: {features: [mom_3], weights: [1.0]}
)");
  auto r = run_command(kBinary + " validate " + (dir / "p.yaml"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("p.yaml:7:7: error: signal_generation.on_prediction[0].params: url: bad URL "
                       "'http://127.0.0.1:99999999999999999999': port '99999999999999999999' is out of range (1 to "
                       "65535)"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace af
