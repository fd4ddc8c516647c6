// Bad input never crashes: each case gives one clear line naming the place, and a
// non-zero exit (2 for an invalid pipeline or usage, 1 for bad data or I/O).
#include <gtest/gtest.h>

#include "support/process.hpp"

namespace af {
namespace {

using testing::run_command;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

std::string pipeline(const std::string& csv_path) {
  return R"(name: bad_input
signal_generation:
  mode: stream
  warmup: {lookback_days: 2}
  scheduling: {interval: 1h}
  on_prediction:
    - using: sinks.csv_append
      params: {path: )" + csv_path + R"(}
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
)";
}

const char* kHeader =
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,"
    "ignore\n";

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override { write_file(dir_ / "p.yaml", pipeline(dir_ / "out/p.csv")); }

  // A one-month mirror whose BTCUSDT 1h file holds `csv` (zipped with the zip tool).
  std::string mirror_with_csv(const std::string& csv) {
    const std::string month = dir_ / "m/data/futures/um/monthly/klines/BTCUSDT/1h";
    write_file(month + "/BTCUSDT-1h-2025-02.csv", csv);
    EXPECT_EQ(run_command("cd " + month + " && zip -q -j BTCUSDT-1h-2025-02.zip BTCUSDT-1h-2025-02.csv && rm "
                          "BTCUSDT-1h-2025-02.csv")
                  .exit_code,
              0);
    return dir_ / "m";
  }

  testing::CommandResult replay(const std::string& data, const std::string& extra = "") {
    return run_command(kBinary + " replay " + (dir_ / "p.yaml") + " --data " + data + " " + extra);
  }

  TempDir dir_;
};

TEST_F(BadInput, MalformedYamlNamesLineAndColumn) {
  write_file(dir_ / "bad.yaml", "name: x\npipeline: [\n  - data: {\n");
  auto r = run_command("cd " + dir_.path().string() + " && " + kBinary + " validate bad.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:3:3: error: "), std::string::npos) << r.err;
}

TEST_F(BadInput, MissingPipelineFile) {
  auto r = run_command(kBinary + " validate " + (dir_ / "nope.yaml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.yaml: error: cannot read file: No such file or directory"), std::string::npos) << r.err;
}

TEST_F(BadInput, WrongParamType) {
  std::string text = pipeline(dir_ / "out/p.csv");
  text.replace(text.find("{window: 3}"), 11, "{window: three}");
  write_file(dir_ / "typed.yaml", text);
  auto r = run_command(kBinary + " validate " + (dir_ / "typed.yaml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("typed.yaml:18:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("params.window"), std::string::npos) << r.err;
}

TEST_F(BadInput, MissingDataDirectory) {
  auto r = replay(dir_ / "absent");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: --data " + (dir_ / "absent") + ": no such directory"), std::string::npos) << r.err;
}

TEST_F(BadInput, CsvRowWithWrongFieldCount) {
  auto r = replay(mirror_with_csv(std::string(kHeader) + "1738368000000,1,2,0.5,1.5,10,1738371599999,15,3,5,7,0\n" +
                                  "1738371600000,1,2,0.5\n"),
                  "--from 2025-02-02");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("BTCUSDT-1h-2025-02.zip:BTCUSDT-1h-2025-02.csv:3: expected 12 fields, got 4"),
            std::string::npos)
      << r.err;
}

TEST_F(BadInput, CsvNonNumericValue) {
  auto r = replay(mirror_with_csv(std::string(kHeader) + "1738368000000,1,2,0.5,abc,10,1738371599999,15,3,5,7,0\n"),
                  "--from 2025-02-02");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("BTCUSDT-1h-2025-02.csv:2: field 'close' is not a number: 'abc'"), std::string::npos) << r.err;
}

TEST_F(BadInput, CorruptZipAndChecksumMismatch) {
  const std::string mirror = dir_ / "gen";
  ASSERT_EQ(run_command(kBinary + " synth-data --out " + mirror +
                        " --symbols BTCUSDT --interval 1h --from 2025-02-01 --to 2025-03-01")
                .exit_code,
            0);
  const std::string zip = mirror + "/data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-02.zip";
  write_file(zip, "garbage");
  auto r = replay(mirror, "--from 2025-02-03");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(zip + ": checksum mismatch: .CHECKSUM says "), std::string::npos) << r.err;

  std::filesystem::remove(zip + ".CHECKSUM");
  r = replay(mirror, "--from 2025-02-03");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(zip + ": not a valid zip"), std::string::npos) << r.err;
}

TEST_F(BadInput, UnwritableSinkPathNamesTheSink) {
  write_file(dir_ / "blocker", "a file, not a directory");
  write_file(dir_ / "p2.yaml", pipeline(dir_ / "blocker/p.csv"));
  const std::string mirror = dir_ / "gen";
  ASSERT_EQ(run_command(kBinary + " synth-data --out " + mirror +
                        " --symbols BTCUSDT --interval 1h --from 2025-02-01 --to 2025-03-01")
                .exit_code,
            0);
  auto r = run_command(kBinary + " replay " + (dir_ / "p2.yaml") + " --data " + mirror);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("sinks.csv_append[0] (" + (dir_ / "blocker/p.csv") + "): cannot create directory"),
            std::string::npos)
      << r.err;
}

TEST_F(BadInput, BadDateAndBadDump) {
  auto r = replay(dir_.path().string(), "--from 2025-13-01");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--from '2025-13-01' is not an ISO-8601 UTC date or time"), std::string::npos) << r.err;
  r = replay(dir_.path().string(), "--dump nosuchframe=x.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--dump 'nosuchframe=x.csv': no frame 'nosuchframe' (frames: ohlcv)"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace af
