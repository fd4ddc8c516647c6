// The docs that are generated from the plugin descriptors must match what the
// binary prints, so that docs/ never drifts from what the engine validates.
#include <gtest/gtest.h>

#include <cstdlib>

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
  for (const char* example : {"examples/08_signal_generation/minimal_offline.yaml",
                              "examples/08_signal_generation/minimal_signal_generation.yaml",
                              "examples/08_signal_generation/bilstm_realtime_signal.yaml"}) {
    auto r = testing::run_command(std::string(AF_BINARY) + " validate " + source_dir() + "/" + example);
    EXPECT_EQ(r.exit_code, 0) << example << "\n" << r.err;
  }
}

}  // namespace
}  // namespace af
