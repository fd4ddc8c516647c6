// docs/features.md is generated from the descriptors and must match them; and
// every descriptor is complete and self-consistent.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "features/describe_markdown.hpp"
#include "harness.hpp"

namespace af::features::test {
namespace {

TEST(DescribeMarkdown, DocsFileIsUpToDate) {
  const char* src = std::getenv("AF_SOURCE_DIR");
  if (!src) GTEST_SKIP() << "AF_SOURCE_DIR not set (run through ctest)";
  const std::string path = std::string(src) + "/docs/features.md";
  const std::string generated = describe_markdown(builtin_registry());
  if (std::getenv("AF_WRITE_DOCS")) {
    std::ofstream(path) << generated;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  for (const auto* d : builtin_registry().descriptors()) {
    EXPECT_NE(text.find("## `" + d->name + "`"), std::string::npos) << d->name;
    for (const auto& p : d->params) EXPECT_NE(text.find("| `" + p.name + "` |"), std::string::npos) << d->name << " " << p.name;
  }
  EXPECT_EQ(text, generated) << path << " is stale: regenerate with AF_WRITE_DOCS=1 ctest -R features_test";
}

TEST(DescribeMarkdown, SectionShowsParamsOutputsAndWarmup) {
  const auto* e = builtin_registry().find("features.macd");
  ASSERT_NE(e, nullptr);
  const std::string md = describe_markdown(e->descriptor);
  EXPECT_NE(md.find("| `fast` | int | 12 | 2 .. 100000 | fast EMA period |"), std::string::npos) << md;
  EXPECT_NE(md.find("3. histogram (line - signal) (optional)"), std::string::npos) << md;
  EXPECT_NE(md.find("**Warmup:** slow + signal - 1 rows"), std::string::npos) << md;
}

TEST(Descriptors, AreCompleteAndConsistent) {
  for (const auto* d : builtin_registry().descriptors()) {
    SCOPED_TRACE(d->name);
    EXPECT_EQ(d->name.rfind("features.", 0), 0u);
    EXPECT_EQ(d->kind, registry::PluginKind::kFeature);
    EXPECT_FALSE(d->summary.empty());
    EXPECT_FALSE(d->doc.empty());
    EXPECT_TRUE(d->input == registry::InputKind::kColumn || d->input == registry::InputKind::kBar);
    EXPECT_EQ(d->input == registry::InputKind::kBar, !d->bar_columns.empty());
    EXPECT_EQ(d->output, registry::OutputKind::kColumns);
    EXPECT_GE(d->min_outputs, 1);
    EXPECT_LE(d->min_outputs, d->max_outputs);
    EXPECT_EQ(static_cast<int>(d->output_docs.size()), d->max_outputs);
    EXPECT_TRUE(d->warmup_rows);
    EXPECT_TRUE(d->settling_window);
    EXPECT_FALSE(d->warmup_doc.empty());
    for (const auto& p : d->params) {
      EXPECT_FALSE(p.doc.empty()) << p.name;
      EXPECT_NE(p.required, !std::holds_alternative<std::monostate>(p.default_value)) << p.name;
      if (const auto* v = std::get_if<int64_t>(&p.default_value)) {
        if (p.min) {
          EXPECT_GE(static_cast<double>(*v), *p.min) << p.name;
        }
        if (p.max) {
          EXPECT_LE(static_cast<double>(*v), *p.max) << p.name;
        }
      }
      if (const auto* v = std::get_if<double>(&p.default_value)) {
        if (p.min) {
          EXPECT_GE(*v, *p.min) << p.name;
        }
        if (p.max) {
          EXPECT_LE(*v, *p.max) << p.name;
        }
      }
    }
  }
}

TEST(Descriptors, SeedFeaturesKeepTheirPromisedShape) {
  const auto& reg = builtin_registry();
  for (const char* n : {"features.momentum", "features.rsi", "features.ma_rocp", "features.levels"})
    ASSERT_NE(reg.find(n), nullptr) << n;
  const auto& levels = reg.find("features.levels")->descriptor;
  EXPECT_EQ(levels.bar_columns, (std::vector<std::string>{"high", "low", "close"}));
  EXPECT_EQ(levels.max_outputs, 3);
  registry::Params p;
  p.set("window", int64_t{14});
  EXPECT_EQ(reg.find("features.rsi")->descriptor.warmup_rows(p), 15);
  EXPECT_EQ(reg.find("features.rsi")->descriptor.settling_window(p), 14);
  p.set("rocp_period", int64_t{1});
  EXPECT_EQ(reg.find("features.ma_rocp")->descriptor.warmup_rows(p), 15);
  registry::Params macd;
  macd.set("fast", int64_t{26});
  macd.set("slow", int64_t{12});
  macd.set("signal", int64_t{9});
  EXPECT_EQ(reg.find("features.macd")->descriptor.check(macd), (std::vector<std::string>{"fast must be less than slow"}));
}

}  // namespace
}  // namespace af::features::test
