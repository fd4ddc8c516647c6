// Golden DSL cases: tests/golden/dsl/valid/<case>.yaml must compile to exactly
// <case>.plan.txt; tests/golden/dsl/invalid/<case>.yaml must give exactly the
// diagnostics in <case>.errors.txt (sorted, one per line). Cases are found when
// the test runs, so adding one needs no rebuild. AF_UPDATE_GOLDEN=1 rewrites the
// expectations from the current output (review the diff before committing).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/builtin_plugins.hpp"
#include "dag/compiler.hpp"
#include "dag/plan_format.hpp"
#include "dsl/loader.hpp"

namespace af {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() {
  if (const char* src = std::getenv("AF_SOURCE_DIR")) return fs::path(src) / "tests/golden/dsl";
  return fs::path(AF_GOLDEN_DIR);
}

bool updating() {
  const char* v = std::getenv("AF_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> cases(const std::string& kind) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(golden_dir() / kind, ec))
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

// What `validate` shows for a case: the plan text, or every diagnostic sorted.
struct Outcome {
  bool valid = false;
  std::string text;
};

Outcome run_case(const fs::path& yaml) {
  static PluginSet* plugins = [] {
    auto* p = new PluginSet();
    app::register_all_builtins(*p);
    return p;
  }();
  const registry::Catalog catalog = plugins->catalog();
  Diagnostics diags;
  Outcome out;
  auto pipeline = dsl::load_pipeline_text(read(yaml), yaml.filename().string(), catalog, diags);
  std::optional<dag::Plan> plan;
  if (pipeline) plan = dag::compile(*pipeline, catalog, diags);
  if (plan && !diags.has_errors()) {
    out.valid = true;
    out.text = dag::format_plan(*plan);
    return out;
  }
  diags.sort();
  for (const auto& d : diags.items()) out.text += d.to_string() + "\n";
  return out;
}

class GoldenValid : public ::testing::TestWithParam<std::string> {};
class GoldenInvalid : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenValid, PlanMatches) {
  const fs::path dir = golden_dir() / "valid";
  const Outcome got = run_case(dir / (GetParam() + ".yaml"));
  ASSERT_TRUE(got.valid) << "expected a valid pipeline, got:\n" << got.text;
  const fs::path expected = dir / (GetParam() + ".plan.txt");
  if (updating()) write(expected, got.text);
  ASSERT_TRUE(fs::exists(expected)) << expected << " is missing (run with AF_UPDATE_GOLDEN=1)";
  EXPECT_EQ(got.text, read(expected));
}

TEST_P(GoldenInvalid, DiagnosticsMatch) {
  const fs::path dir = golden_dir() / "invalid";
  const Outcome got = run_case(dir / (GetParam() + ".yaml"));
  ASSERT_FALSE(got.valid) << "expected errors, got the plan:\n" << got.text;
  const fs::path expected = dir / (GetParam() + ".errors.txt");
  if (updating()) write(expected, got.text);
  ASSERT_TRUE(fs::exists(expected)) << expected << " is missing (run with AF_UPDATE_GOLDEN=1)";
  EXPECT_EQ(got.text, read(expected));
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Dsl, GoldenValid, ::testing::ValuesIn(cases("valid")), case_name);
INSTANTIATE_TEST_SUITE_P(Dsl, GoldenInvalid, ::testing::ValuesIn(cases("invalid")), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenValid);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenInvalid);

}  // namespace
}  // namespace af
