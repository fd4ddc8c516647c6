// replay's progress bar: drawn on stderr when it is a terminal (a pty from
// `script`), erased at the end; not a byte of it when stderr is a file.

#include <gtest/gtest.h>

#include <regex>

#include "support/process.hpp"

namespace af {
namespace {

using testing::run_command;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

std::string pipeline(const std::string& csv) {
  return "name: progress\n"
         "signal_generation:\n"
         "  mode: stream\n"
         "  warmup: {lookback_days: 30}\n"
         "  scheduling: {interval: 1h, buffer_minutes: 2}\n"
         "  on_prediction:\n"
         "    - using: sinks.csv_append\n"
         "      params: {path: " + csv + "}\n"
         "pipeline:\n"
         "  - data:\n"
         "      using: data.binance_futures\n"
         "      outputs: {frame: ohlcv}\n"
         "      params: {universe: [AAAUSDT, BBBUSDT], interval: 1h}\n"
         "  - features:\n"
         "      using: features.rsi\n"
         "      inputs: {column: ohlcv.close}\n"
         "      outputs: {columns: [rsi_14]}\n"
         "      params: {window: 14}\n"
         "  - model:\n"
         "      using: models.linear\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params: {features: [rsi_14], weights: [0.01], bias: 0}\n";
}

class ReplayProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two years of hourly bars for two symbols: about 35,000 bars, several
    // progress callbacks (one per 4096 bars).
    auto gen = run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                           " --symbols AAAUSDT,BBBUSDT --interval 1h --from 2023-01-01 --to 2025-01-01 --seed 3");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    write_file(dir_ / "p.yaml", pipeline(dir_ / "out.csv"));
  }
  std::string replay_command() const {
    return kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror") + " --from 2023-02-01 --fresh";
  }
  TempDir dir_;
};

TEST_F(ReplayProgressTest, ATerminalGetsABarThatIsErasedAtTheEnd) {
  if (run_command("command -v script").exit_code != 0) GTEST_SKIP() << "`script` (util-linux) is not installed";
  // `script` runs the command on a pseudo-terminal and copies what it writes.
  // (stdin from /dev/null: `script` needs no terminal of its own.)
  auto r = run_command("script -qec '" + replay_command() + "' /dev/null < /dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string tty = r.out;
  // "\r\033[K" then the line: label, bar, percentage, the month reached of the
  // last, bars, rate, ETA; whole (it fits the terminal's width).
  const std::regex bar(
      "\r\x1b\\[Kreplay \\[[#.]{10,40}\\] +[0-9]{1,3}% 202[345]-[0-9]{2}/2024-12 [0-9.]+k? bars [0-9.]+[kM]? bars/s ETA "
      "[0-9]+:[0-9]{2}");
  EXPECT_TRUE(std::regex_search(tty, bar)) << tty;
  // Erased before the summary: the summary line starts clean after the last "\r\033[K".
  const size_t summary = tty.find("replay progress: anchor=");
  ASSERT_NE(summary, std::string::npos) << tty;
  EXPECT_EQ(tty.rfind("\r\x1b[K", summary), summary - 4) << tty;
}

TEST_F(ReplayProgressTest, NotATerminalGetsNoProgress) {
  auto r = run_command(replay_command());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("replay ["), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("replay progress: anchor="), std::string::npos) << r.out;
}

}  // namespace
}  // namespace af
