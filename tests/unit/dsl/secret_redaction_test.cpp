// Secret params (issue 12 item 9): a param its descriptor marks secret (the
// ClickHouse sink's and source's password) is redacted wherever a plan is shown
// (validate's text and JSON) and is not part of the plan fingerprint, so that
// rotating a password neither leaks it nor invalidates snapshots.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/builtin_plugins.hpp"
#include "dag/compiler.hpp"
#include "dag/plan_format.hpp"
#include "dsl/loader.hpp"
#include "service/state_store.hpp"

namespace af {
namespace {

std::string golden_text() {
  const char* src = std::getenv("AF_SOURCE_DIR");
  const std::filesystem::path dir = src ? std::filesystem::path(src) / "tests/golden/dsl" : AF_GOLDEN_DIR;
  std::ifstream in(dir / "valid/secret_params.yaml", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
    text.replace(p, from.size(), to);
  return text;
}

dag::Plan compile(const std::string& yaml, const std::string& file = "secret_params.yaml") {
  static PluginSet* plugins = [] {
    auto* p = new PluginSet();
    app::register_all_builtins(*p);
    return p;
  }();
  const registry::Catalog catalog = plugins->catalog();
  Diagnostics diags;
  auto pipeline = dsl::load_pipeline_text(yaml, file, catalog, diags);
  EXPECT_TRUE(pipeline) << (diags.items().empty() ? "" : diags.items()[0].to_string());
  auto plan = dag::compile(*pipeline, catalog, diags);
  EXPECT_TRUE(plan);
  return *plan;
}

TEST(SecretParams, RedactedInTextAndJson) {
  const std::string yaml = golden_text();
  ASSERT_NE(yaml.find("hunter2-do-not-print"), std::string::npos);
  const dag::Plan plan = compile(yaml);
  const std::string text = dag::format_plan(plan);
  const std::string json = dag::plan_to_json(plan).dump();
  for (const char* secret : {"hunter2-do-not-print", "s3cret-bars-password"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_EQ(json.find(secret), std::string::npos) << json;
  }
  EXPECT_NE(text.find("password=<redacted>"), std::string::npos) << text;
  EXPECT_NE(json.find("\"password\":\"<redacted>\""), std::string::npos) << json;
  // What is not secret is still shown.
  EXPECT_NE(text.find("user=writer"), std::string::npos) << text;
  // The factories still get the real value.
  EXPECT_EQ(plan.sinks[0].params.get_string("password"), "hunter2-do-not-print");
}

TEST(SecretParams, LeftOutOfTheFingerprint) {
  const std::string yaml = golden_text();
  const dag::Plan before = compile(yaml);
  const dag::Plan rotated =
      compile(replace_all(replace_all(yaml, "hunter2-do-not-print", "rotated"), "s3cret-bars-password", "also-new"));
  EXPECT_EQ(service::StateStore::fingerprint(before), service::StateStore::fingerprint(rotated));
  // A change that is not a secret still changes it.
  const dag::Plan other_user = compile(replace_all(yaml, "user: writer", "user: reader"));
  EXPECT_NE(service::StateStore::fingerprint(before), service::StateStore::fingerprint(other_user));
}

// The path a pipeline is run by is not part of what it computes: replaying
// `./p.yaml` after `p.yaml` must find its own CSV outputs and snapshots.
TEST(PlanFingerprint, LeavesOutThePipelineFilesPath) {
  const std::string yaml = golden_text();
  const dag::Plan plain = compile(yaml, "secret_params.yaml");
  const dag::Plan dotted = compile(yaml, "./secret_params.yaml");
  const dag::Plan moved = compile(yaml, "/elsewhere/pipelines/secret_params.yaml");
  ASSERT_NE(plain.file, dotted.file);
  EXPECT_EQ(service::StateStore::fingerprint(plain), service::StateStore::fingerprint(dotted));
  EXPECT_EQ(service::StateStore::fingerprint(plain), service::StateStore::fingerprint(moved));
}

// The fingerprint a sink records with its output covers what the predictions are
// computed from, not where they are sent: a new ClickHouse URL keeps the CSV.
TEST(PlanFingerprint, PredictionsFingerprintLeavesOutTheSinks) {
  const std::string yaml = golden_text();
  ASSERT_NE(yaml.find("user: writer"), std::string::npos);
  const dag::Plan before = compile(yaml);
  const dag::Plan other_sink = compile(replace_all(yaml, "user: writer", "user: reader"));
  EXPECT_EQ(service::StateStore::predictions_fingerprint(before),
            service::StateStore::predictions_fingerprint(other_sink));
  EXPECT_NE(service::StateStore::fingerprint(before), service::StateStore::fingerprint(other_sink));
  const dag::Plan other_model = compile(replace_all(yaml, "weights: [0.5]", "weights: [0.25]"));
  EXPECT_NE(service::StateStore::predictions_fingerprint(before),
            service::StateStore::predictions_fingerprint(other_model));
}

}  // namespace
}  // namespace af
