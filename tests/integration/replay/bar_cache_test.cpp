// End to end: `replay` writes the decoded-bar cache beside the mirror's archives on
// its first run and reads it on the next, with outputs byte-identical to a run
// that decodes every zip (`--no-cache`); a corrupt cache file is rebuilt with a
// warning and changes nothing in the outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "support/process.hpp"

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

std::string pipeline_yaml(const std::string& csv_path) {
  return R"(name: cache_dag
signal_generation:
  mode: stream
  warmup:
    lookback_days: 10
  scheduling:
    interval: 1h
    buffer_minutes: 2
  on_prediction:
    - using: sinks.csv_append
      params:
        path: )" + csv_path + R"(
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params:
        universe: [AAAUSDT, BBBUSDT]
        interval: 1h
  - features:
      using: features.momentum
      inputs: {column: ohlcv.close}
      outputs: {columns: [mom_5]}
      params: {window: 5}
  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [model.prediction]}
      params:
        features: [mom_5]
        weights: [-3.0]
        bias: 0.5
        activation: tanh
)";
}

// The predictions without emitted_at (wall clock, not part of parity).
std::string without_emitted_at(const std::string& csv) {
  std::string out;
  size_t at = 0;
  while (at < csv.size()) {
    size_t nl = csv.find('\n', at);
    if (nl == std::string::npos) nl = csv.size();
    const std::string line = csv.substr(at, nl - at);
    out += line.substr(0, line.rfind(',')) + "\n";
    at = nl + 1;
  }
  return out;
}

std::vector<std::string> files_ending(const std::string& root, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const std::string p = e.path().string();
    if (p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ReplayBarCache, OutputsByteIdenticalWithAndWithoutCache) {
  TempDir dir;
  const std::string mirror = dir / "mirror";
  ASSERT_EQ(run_command(kBinary + " synth-data --out " + mirror +
                        " --symbols AAAUSDT,BBBUSDT --interval 1h --from 2025-01-01 --to 2025-03-01 --seed 5")
                .exit_code,
            0);
  write_file(dir / "p.yaml", pipeline_yaml(dir / "predictions.csv"));
  const auto zips = files_ending(mirror, ".zip");
  ASSERT_FALSE(zips.empty());
  auto replay = [&](const std::string& extra, const std::string& tag) {
    auto r = run_command(kBinary + " replay " + (dir / "p.yaml") + " --data " + mirror + " --fresh --dump ohlcv=" +
                         (dir / ("dump_" + tag + ".csv")) + extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  };

  auto plain = replay(" --no-cache", "plain");
  EXPECT_TRUE(files_ending(mirror, ".bars").empty()) << "--no-cache wrote a cache file";
  const std::string predictions = without_emitted_at(read_file(dir / "predictions.csv"));
  const std::string dump = read_file(dir / "dump_plain.csv");
  ASSERT_GT(dump.size(), 1000u);

  auto cold = replay("", "cold");
  EXPECT_EQ(files_ending(mirror, ".bars").size(), zips.size());
  EXPECT_EQ(without_emitted_at(read_file(dir / "predictions.csv")), predictions);
  EXPECT_EQ(read_file(dir / "dump_cold.csv"), dump);

  auto warm = replay("", "warm");
  EXPECT_EQ(warm.err.find("vision bar cache"), std::string::npos) << warm.err;
  EXPECT_EQ(without_emitted_at(read_file(dir / "predictions.csv")), predictions);
  EXPECT_EQ(read_file(dir / "dump_warm.csv"), dump);

  // A corrupt cache file: rebuilt with a warning naming it, outputs unchanged.
  const std::string victim = files_ending(mirror, ".bars").front();
  std::string bytes = read_file(victim);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
  write_file(victim, bytes);
  auto healed = replay("", "healed");
  EXPECT_NE(healed.err.find("vision bar cache " + victim + ": corrupt payload (checksum mismatch); rebuilding it "
                            "from the archive"),
            std::string::npos)
      << healed.err;
  EXPECT_EQ(without_emitted_at(read_file(dir / "predictions.csv")), predictions);
  EXPECT_EQ(read_file(dir / "dump_healed.csv"), dump);
  EXPECT_NE(read_file(victim), bytes);
}

}  // namespace
}  // namespace af
