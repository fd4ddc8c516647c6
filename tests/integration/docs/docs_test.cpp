// The docs that are generated from the plugin descriptors must match what the
// binary prints, so that docs/ never drifts from what the engine validates.
#include <gtest/gtest.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "support/process.hpp"

namespace af {
namespace {

std::string source_dir() {
  const char* d = std::getenv("AF_SOURCE_DIR");
  return d ? d : ".";
}

TEST(Docs, PluginsMarkdownIsCurrent) {
  auto r = testing::run_command(std::string(AF_BINARY) + " plugins --markdown");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string on_disk = testing::read_file(source_dir() + "/docs/plugins.md");
  EXPECT_TRUE(on_disk == r.out) << "docs/plugins.md is stale: regenerate it with\n"
                               "  alpha_forge plugins --markdown > docs/plugins.md";
}

TEST(Docs, ExamplesValidate) {
  // Run from the repository root, as the examples say (their paths are relative to it).
  for (const char* example : {"examples/08_signal_generation/minimal_offline.yaml",
                              "examples/models/bilstm_example.yaml"}) {
    auto r = testing::run_command("cd " + source_dir() + " && " + AF_BINARY + " validate " + example);
    EXPECT_EQ(r.exit_code, 0) << example << "\n" << r.err;
  }
}

// The original's two examples name checkpoints one trains first (their header says
// so): validate refuses them as a start would, naming the missing folder.
TEST(Docs, ExamplesNeedingATrainedCheckpointSayWhich) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"examples/08_signal_generation/minimal_signal_generation.yaml",
       ":61:5: error: pipeline[3].model: models.pytorch_bilstm_predictor: checkpoint_dir 'tmp/models/my_checkpoint' "
       "is not a directory\n"},
      {"examples/08_signal_generation/bilstm_realtime_signal.yaml",
       ":85:5: error: pipeline[6].model: models.pytorch_bilstm_predictor: checkpoint_dir "
       "'tmp/models/el_nigma_equiv_unified_improved' is not a directory\n"}};
  for (const auto& [example, error] : cases) {
    auto r = testing::run_command("cd " + source_dir() + " && " + AF_BINARY + " validate " + example);
    EXPECT_EQ(r.exit_code, 2) << example;
    EXPECT_NE(r.err.find(example + error), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace af
