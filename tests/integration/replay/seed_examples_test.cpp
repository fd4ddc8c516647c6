// Issue 16's "done when": the Python original's two example pipelines
// (../shared/seed/examples/), copied byte for byte, validate and replay with a
// BiLSTM checkpoint saved directly by torch.save (tools/seed_checkpoint.py, run
// with Debian's python3-torch) at the checkpoint_dir they name, over generated
// bars of their universe. Skips without ../shared/seed or without torch.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <ostream>
#include <set>

#include "support/process.hpp"

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::split;
using testing::split_lines;
using testing::TempDir;

const std::string kBinary = AF_BINARY;
const std::string kPython = "/usr/bin/python3";

struct SeedCase {
  std::string file;            // in ../shared/seed/examples/
  std::string checkpoint;      // the .pt path the pipeline's checkpoint_dir (and model_ref) lead to
  std::string shape;           // bare | training
  std::string columns, mean, std;
  std::string symbols, interval, data_from, data_to;
  std::string from, to;        // replay's range
  std::string csv;             // the pipeline's own csv_append path
  size_t predictions = 0;      // streamed bars x symbols
  std::string state_dict;      // where in the file the weights are, as the load logs it
};

void PrintTo(const SeedCase& c, std::ostream* os) { *os << c.file; }

class SeedExamples : public ::testing::TestWithParam<SeedCase> {};

TEST_P(SeedExamples, ValidateAndReplayWithATorchSaveCheckpoint) {
  const SeedCase& c = GetParam();
  const auto seed = testing::shared_data_dir().parent_path() / "seed" / "examples" / c.file;
  if (!std::filesystem::exists(seed)) GTEST_SKIP() << "no ../shared/seed: the original's examples are absent";
  if (run_command(kPython + " -c 'import torch'").exit_code != 0)
    GTEST_SKIP() << kPython << " has no torch (Debian's python3-torch)";
  const char* src = std::getenv("AF_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  TempDir dir;
  // The pipeline unchanged; its relative paths (checkpoint_dir, the CSV) are the working directory's.
  std::filesystem::copy_file(seed, dir / c.file);
  std::filesystem::create_directories(std::filesystem::path(dir / c.checkpoint).parent_path());
  auto saved = run_command(kPython + " " + src + "/tools/seed_checkpoint.py " + (dir / c.checkpoint) + " --columns " +
                           c.columns + " --mean " + c.mean + " --std " + c.std + " --window-size 30 --shape " + c.shape);
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  auto gen = run_command(kBinary + " synth-data --out " + (dir / "mirror") + " --symbols " + c.symbols +
                         " --interval " + c.interval + " --from " + c.data_from + " --to " + c.data_to);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string in_dir = "cd " + dir.path().string() + " && " + kBinary + " ";

  auto v = run_command(in_dir + "validate " + c.file);
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("models.pytorch_bilstm_predictor"), std::string::npos) << v.out;

  auto r = run_command(in_dir + "--log-level info replay " + c.file + " --data mirror --from " + c.from + " --to " + c.to);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The torch.save file itself was loaded (not an export).
  EXPECT_NE(r.err.find("checkpoint=" + c.checkpoint + " state_dict=" + c.state_dict), std::string::npos) << r.err;
  const auto lines = split_lines(read_file(dir / c.csv));
  ASSERT_FALSE(lines.empty());
  std::set<std::pair<std::string, std::string>> keys;
  std::set<std::string> values;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    ASSERT_GE(f.size(), 3u) << lines[i];
    EXPECT_TRUE(keys.emplace(f[0], f[1]).second) << "twice: " << lines[i];
    EXPECT_TRUE(std::isfinite(std::stod(f[2]))) << lines[i];
    values.insert(f[2]);
  }
  EXPECT_EQ(keys.size(), c.predictions) << r.out;
  EXPECT_GT(values.size(), c.predictions / 2) << "the model does not respond to its inputs";
}

INSTANTIATE_TEST_SUITE_P(
    Original, SeedExamples,
    ::testing::Values(
        // A training checkpoint (model_state_dict + optimizer + epoch) as the only
        // .pt file: model_ref my_model.unified finds no my_model.pt and loads it.
        SeedCase{"minimal_signal_generation.yaml", "tmp/models/my_checkpoint/best.pt", "training", "mom_20,rsi_14",
                 "0,50", "0.1,20", "BTCUSDT,ETHUSDT", "1h", "2025-01-01", "2025-03-01", "2025-02-15",
                 "2025-03-01", "outputs/predictions/minimal_predictions.csv", 2 * 14 * 24, "model_state_dict"},
        // A bare state_dict named as model_ref names it, 15m resampled to 2h.
        SeedCase{"bilstm_realtime_signal.yaml",
                 "tmp/models/el_nigma_equiv_unified_improved/bilstm_elnigma_unified_improved.pt", "bare",
                 "rsi6,rsi12,rsi24,ma5rocp,ma10rocp,ma20rocp,ma60rocp", "50,50,50,0,0,0,0",
                 "20,20,20,0.1,0.1,0.1,0.1", "BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT", "15m", "2025-01-01", "2025-04-15",
                 "2025-04-05", "2025-04-15", "outputs/predictions/bilstm_improved_realtime.csv", 4 * 10 * 12,
                 "(the whole file)"}),
    [](const ::testing::TestParamInfo<SeedCase>& param) {
      return param.param.file.substr(0, param.param.file.find('.'));
    });

}  // namespace
}  // namespace af
