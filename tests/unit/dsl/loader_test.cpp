// The DSL front end: structure, expansion, param checks and the positions and
// wording of diagnostics (error messages are API: their text is asserted).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "dsl/expand.hpp"
#include "dsl/limits.hpp"
#include "dsl/loader.hpp"
#include "unit/dsl/test_catalog.hpp"

namespace af::dsl {
namespace {

const char* kHeader = R"(name: t
signal_generation:
  warmup:
    lookback_days: 30
  scheduling:
    interval: 1h
pipeline:
  - data:
      using: data.binance_futures
      outputs:
        frame: ohlcv
      params:
        universe: [BTCUSDT]
        interval: 1h
)";

class LoaderTest : public ::testing::Test {
 protected:
  std::optional<Pipeline> load(const std::string& text) {
    diags = Diagnostics();
    return load_pipeline_text(text, "p.yaml", cat.catalog(), diags);
  }
  // Errors in params only: the pipeline comes back flagged (Pipeline::params_valid
  // and the step's) so that the compiler can report its own errors in the same run.
  bool params_rejected(const std::string& text) {
    auto p = load(text);
    if (!p || p->params_valid || !diags.has_errors()) return false;
    return std::count_if(p->steps.begin(), p->steps.end(), [](const StepSpec& s) { return !s.params_valid; }) == 1;
  }
  // Every diagnostic as printed, in source order.
  std::vector<std::string> lines() {
    diags.sort();
    std::vector<std::string> out;
    for (const auto& d : diags.items()) out.push_back(d.to_string());
    return out;
  }
  std::string one_error() {
    auto l = lines();
    EXPECT_EQ(l.size(), 1u) << ::testing::PrintToString(l);
    return l.empty() ? "" : l.front();
  }

  testing::TestCatalog cat;
  Diagnostics diags;
};

TEST_F(LoaderTest, MinimalPipelineFillsEveryField) {
  auto p = load(std::string(kHeader) + R"(  - features:
      using: features.rsi
      inputs:
        column: ohlcv.close
      outputs:
        columns: [rsi]
)");
  ASSERT_TRUE(p) << ::testing::PrintToString(lines());
  EXPECT_EQ(p->name, "t");
  EXPECT_EQ(p->file, "p.yaml");
  EXPECT_EQ(p->signal.lookback_days, 30);
  EXPECT_EQ(p->signal.interval, "1h");
  EXPECT_EQ(p->signal.interval_ms, 3'600'000);
  EXPECT_EQ(p->signal.buffer_minutes, 0);
  ASSERT_EQ(p->steps.size(), 2u);
  const StepSpec& rsi = p->steps[1];
  EXPECT_EQ(rsi.section, "features");
  EXPECT_EQ(rsi.path, "pipeline[1].features");
  EXPECT_EQ(rsi.label, "pipeline[1].features");
  EXPECT_EQ(rsi.mark.line, 15);
  EXPECT_EQ(rsi.mark.column, 5);
  EXPECT_EQ(rsi.params.get_int("window"), 14);  // the default, filled in
  ASSERT_TRUE(rsi.input_column);
  EXPECT_EQ(rsi.input_column->value, "ohlcv.close");
  EXPECT_EQ(rsi.input_column->mark.line, 18);
  EXPECT_EQ(rsi.input_column->mark.column, 17);
  ASSERT_EQ(rsi.output_columns.size(), 1u);
  EXPECT_EQ(rsi.output_columns[0].value, "rsi");
  EXPECT_EQ(p->steps[0].params.get_string_list("universe"), std::vector<std::string>{"BTCUSDT"});
}

TEST_F(LoaderTest, ExpansionIsACartesianProductFirstParamSlowest) {
  auto p = load(std::string("expand:\n  w: [5, 10]\n  f: [0.50, 2]\n") + kHeader + R"(  - features:
      using: features.ma_rocp
      inputs: {column: ohlcv.close}
      outputs: {columns: ["ma{window}x{rocp_factor}p{rocp_period}"]}
      params:
        rocp_factor: ${expand.f}
        rocp_period: 3
        window: ${expand.w}
)");
  ASSERT_TRUE(p) << ::testing::PrintToString(lines());
  ASSERT_EQ(p->steps.size(), 5u);
  // rocp_factor is written first in the step, so it varies slowest.
  const std::vector<std::string> want_cols{"ma5x0.50p3", "ma10x0.50p3", "ma5x2p3", "ma10x2p3"};
  const std::vector<std::string> want_labels{
      "pipeline[1].features{rocp_factor=0.50,window=5}", "pipeline[1].features{rocp_factor=0.50,window=10}",
      "pipeline[1].features{rocp_factor=2,window=5}", "pipeline[1].features{rocp_factor=2,window=10}"};
  for (size_t i = 0; i < 4; ++i) {
    const StepSpec& s = p->steps[i + 1];
    EXPECT_EQ(s.output_columns.at(0).value, want_cols[i]);
    EXPECT_EQ(s.label, want_labels[i]);
    EXPECT_EQ(s.path, "pipeline[1].features");
    ASSERT_EQ(s.expansion.size(), 2u);
    EXPECT_EQ(s.expansion[0].first, "rocp_factor");
    EXPECT_EQ(s.expansion[1].first, "window");
  }
  EXPECT_EQ(p->steps[1].params.get_int("window"), 5);
  EXPECT_DOUBLE_EQ(p->steps[1].params.get_number("rocp_factor"), 0.5);
  EXPECT_EQ(p->steps[4].params.get_int("window"), 10);
  EXPECT_DOUBLE_EQ(p->steps[4].params.get_number("rocp_factor"), 2.0);
}

TEST(CartesianProduct, OrderAndSize) {
  std::vector<ExpandAxis> axes(3);
  axes[0].values.resize(2);
  axes[1].values.resize(3);
  axes[2].values.resize(1);
  auto combos = cartesian_product(axes);
  ASSERT_EQ(combos.size(), 6u);
  const std::vector<std::vector<size_t>> want{{0, 0, 0}, {0, 1, 0}, {0, 2, 0}, {1, 0, 0}, {1, 1, 0}, {1, 2, 0}};
  EXPECT_EQ(combos, want);
  EXPECT_EQ(cartesian_product({}).size(), 1u);
}

TEST(SubstituteBraces, ReplacesKnownAndReportsUnknown) {
  std::vector<std::string> unresolved;
  auto lookup = [](const std::string& n) -> std::optional<std::string> {
    if (n == "window") return std::string("6");
    return std::nullopt;
  };
  EXPECT_EQ(substitute_braces("rsi{window}_{window}", lookup, unresolved), "rsi6_6");
  EXPECT_TRUE(unresolved.empty());
  EXPECT_EQ(substitute_braces("x{nope}y{", lookup, unresolved), "x{nope}y{");
  EXPECT_EQ(unresolved, std::vector<std::string>{"nope"});
}

TEST_F(LoaderTest, ExpandedStepErrorsNameTheExpandedStep) {
  auto p = load(std::string("expand:\n  w: [1, 14]\n") + kHeader + R"(  - features:
      using: features.rsi
      inputs: {column: ohlcv.close}
      outputs: {columns: ["rsi{window}"]}
      params:
        window: ${expand.w}
)");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->params_valid);
  ASSERT_EQ(p->steps.size(), 3u);
  EXPECT_FALSE(p->steps[1].params_valid);  // window=1
  EXPECT_TRUE(p->steps[2].params_valid);   // window=14
  EXPECT_EQ(one_error(),
            "p.yaml:22:17: error: pipeline[1].features{window=1}.params.window: param 'window' must be >= 2, got 1");
}

TEST_F(LoaderTest, UnknownExpandNameSuggests) {
  auto p = load(std::string("expand:\n  rsi_windows: [6]\n") + kHeader + R"(  - features:
      using: features.rsi
      inputs: {column: ohlcv.close}
      outputs: {columns: [r]}
      params:
        window: ${expand.rsi_window}
)");
  EXPECT_FALSE(p);
  EXPECT_EQ(one_error(),
            "p.yaml:22:17: error: pipeline[1].features.params.window: unknown expand list 'rsi_window' (did you mean "
            "'rsi_windows'?)");
}

TEST_F(LoaderTest, UnknownKeysArePositionedAndSuggested) {
  auto p = load(std::string(kHeader) + "signal_generaton: {}\n");
  EXPECT_FALSE(p);
  EXPECT_EQ(one_error(),
            "p.yaml:15:1: error: signal_generaton: unknown key 'signal_generaton' (did you mean 'signal_generation'?)");
  p = load(std::string(kHeader) + R"(  - features:
      using: features.rsi
      input: {column: ohlcv.close}
)");
  EXPECT_FALSE(p);
  auto l = lines();
  // The misspelled `inputs` is not reported missing as well; `outputs` is.
  ASSERT_EQ(l.size(), 2u) << ::testing::PrintToString(l);
  EXPECT_EQ(l[0],
            "p.yaml:15:5: error: pipeline[1].features.outputs: missing required key 'columns' (features.rsi writes 1 "
            "column)");
  EXPECT_EQ(l[1], "p.yaml:17:7: error: pipeline[1].features.input: unknown key 'input' (did you mean 'inputs'?)");
}

TEST_F(LoaderTest, MalformedYamlGivesOneDiagnosticWithPosition) {
  auto p = load("name: x\npipeline: [a, b\nsignal_generation: 1\n");
  EXPECT_FALSE(p);
  EXPECT_EQ(one_error(), "p.yaml:3:18: error: end of sequence flow not found");
}

TEST_F(LoaderTest, UnreadableFile) {
  Diagnostics d;
  EXPECT_FALSE(load_pipeline_file("/nonexistent/x.yaml", cat.catalog(), d));
  ASSERT_EQ(d.items().size(), 1u);
  EXPECT_EQ(d.items()[0].to_string(), "/nonexistent/x.yaml: error: cannot read file: No such file or directory");
  Diagnostics dir;
  EXPECT_FALSE(load_pipeline_file("/tmp", cat.catalog(), dir));
  ASSERT_EQ(dir.items().size(), 1u);
  EXPECT_EQ(dir.items()[0].to_string(), "/tmp: error: cannot read file: Is a directory");
}

// Only a regular file of bounded size is read (issue 12 item 15): `validate
// /dev/zero` used to read until bad_alloc.
TEST_F(LoaderTest, NonRegularAndOversizedFilesAreRefused) {
  Diagnostics zero;
  EXPECT_FALSE(load_pipeline_file("/dev/zero", cat.catalog(), zero));
  ASSERT_EQ(zero.items().size(), 1u);
  EXPECT_EQ(zero.items()[0].to_string(), "/dev/zero: error: cannot read file: not a regular file");

  const std::string big = ::testing::TempDir() + "loader_test_big.yaml";
  {
    std::ofstream out(big, std::ios::binary | std::ios::trunc);
    out << kHeader;
    out << "description: \"" << std::string(kMaxPipelineFileBytes, 'x') << "\"\n";
  }
  const auto size = std::filesystem::file_size(big);
  Diagnostics large;
  EXPECT_FALSE(load_pipeline_file(big, cat.catalog(), large));
  ASSERT_EQ(large.items().size(), 1u);
  EXPECT_EQ(large.items()[0].to_string(), big + ": error: cannot read file: " + std::to_string(size) +
                                              " bytes; a pipeline file may have at most 1048576 bytes");
  std::filesystem::remove(big);
}

// yaml-cpp's own message for this is "bad file" (issue 12 item 16).
TEST_F(LoaderTest, DeepNestingSaysWhatAndWhere) {
  auto p = load("name: x\ndescription: " + std::string(3000, '[') + std::string(3000, ']') + "\n");
  EXPECT_FALSE(p);
  EXPECT_EQ(one_error(),
            "p.yaml:2:6014: error: YAML nested too deeply: 500 levels of lists and mappings reached here, the parser's "
            "limit; a pipeline needs a handful");
}

TEST_F(LoaderTest, ParamTypeChecks) {
  auto step = [](const std::string& plugin, const std::string& params) {
    return std::string(kHeader) + "  - model:\n      using: " + plugin +
           "\n      inputs: {frame: ohlcv}\n      outputs: {columns: [p]}\n      params:\n" + params;
  };
  // An int where a number is expected is fine.
  EXPECT_TRUE(load(step("models.linear", "        features: [close]\n        weights: [2]\n        bias: 1\n")))
      << ::testing::PrintToString(lines());
  // A number where an int is expected is not.
  EXPECT_TRUE(params_rejected(step("models.windowed", "        window_size: 2.5\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:20:22: error: pipeline[1].model.params.window_size: param 'window_size' expects an int, got a "
            "number (2.5)");
  // A quoted number is a string.
  EXPECT_TRUE(params_rejected(step("models.windowed", "        window_size: \"3\"\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:20:22: error: pipeline[1].model.params.window_size: param 'window_size' expects an int, got a "
            "string ('3')");
  // A string where a list is expected.
  EXPECT_TRUE(params_rejected(step("models.linear", "        features: close\n        weights: [1]\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:20:19: error: pipeline[1].model.params.features: param 'features' expects a list of strings, "
            "got a string ('close')");
  // A list element that is not a number.
  EXPECT_TRUE(params_rejected(step("models.linear", "        features: [a, b]\n        weights: [1, x]\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:21:18: error: pipeline[1].model.params.weights: param 'weights'[1] expects a number, got a "
            "string ('x')");
  // Choices, with a suggestion.
  EXPECT_TRUE(params_rejected(step("models.linear", "        features: [a]\n        weights: [1]\n        activation: tanhh\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:22:21: error: pipeline[1].model.params.activation: param 'activation' must be one of "
            "none|tanh|sigmoid, got 'tanhh' (did you mean 'tanh'?)");
  // The descriptor's own check runs once the params are individually valid.
  EXPECT_TRUE(params_rejected(step("models.linear", "        features: [a, b]\n        weights: [1]\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:19:7: error: pipeline[1].model.params: features and weights must have the same length");
  // An unknown param; the required one it misspells is not reported missing too.
  EXPECT_TRUE(params_rejected(step("models.windowed", "        window_sise: 3\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:20:9: error: pipeline[1].model.params.window_sise: unknown param 'window_sise' of models.windowed "
            "(did you mean 'window_size'?)");
  // A required param that is simply absent.
  EXPECT_TRUE(params_rejected(step("models.windowed", "        output_col: x\n")));
  EXPECT_EQ(one_error(),
            "p.yaml:19:7: error: pipeline[1].model.params: missing required param 'window_size' of models.windowed");
}

TEST_F(LoaderTest, IntervalsOutsideBinancesSetAreRejected) {
  std::string text = kHeader;
  text.replace(text.rfind("interval: 1h"), 12, "interval: 2x");
  EXPECT_TRUE(params_rejected(text));
  EXPECT_EQ(one_error(),
            "p.yaml:14:19: error: pipeline[0].data.params.interval: param 'interval': '2x' is not a Binance interval "
            "(one of 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d)");
  text = kHeader;
  text.replace(text.find("interval: 1h"), 12, "interval: 1w");
  EXPECT_FALSE(load(text));
  EXPECT_EQ(one_error(),
            "p.yaml:6:15: error: signal_generation.scheduling.interval: '1w' is not a Binance interval (one of 1s 1m "
            "3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d)");
}

TEST_F(LoaderTest, WrongSectionAndUnknownPlugin) {
  EXPECT_FALSE(load(std::string(kHeader) + R"(  - features:
      using: models.linear
)"));
  EXPECT_EQ(one_error(),
            "p.yaml:16:14: error: pipeline[1].features.using: 'models.linear' is a model plugin; it belongs in a "
            "'model' step, not in 'features'");
  EXPECT_FALSE(load(std::string(kHeader) + R"(  - features:
      using: features.rsj
)"));
  EXPECT_EQ(one_error(),
            "p.yaml:16:14: error: pipeline[1].features.using: unknown features plugin 'features.rsj' (did you mean "
            "'features.rsi'?)");
}

TEST_F(LoaderTest, CapabilitiesPluginsAndSinks) {
  auto p = load(std::string("using:\n  capabilities: [shared, midlefreq]\n  plugins: [lib/x.so]\n") + kHeader);
  EXPECT_FALSE(p);
  EXPECT_EQ(one_error(),
            "p.yaml:2:26: error: using.capabilities[1]: unknown capability 'midlefreq' (known: shared, middlefreq) "
            "(did you mean 'middlefreq'?)");
  std::string text = kHeader;
  text.replace(text.find("pipeline:"), 0,
               "  on_prediction:\n    - using: sinks.csv_append\n      params: {path: out.csv}\n  output_col: x\n");
  p = load("using:\n  plugins: [lib/x.so]\n" + text);
  ASSERT_TRUE(p) << ::testing::PrintToString(lines());
  ASSERT_EQ(p->plugin_paths.size(), 1u);
  EXPECT_EQ(p->plugin_paths[0].value, "lib/x.so");
  ASSERT_EQ(p->signal.sinks.size(), 1u);
  EXPECT_EQ(p->signal.sinks[0].plugin.value, "sinks.csv_append");
  EXPECT_EQ(p->signal.sinks[0].params.get_string_list("dedup_key"), (std::vector<std::string>{"ts", "symbol"}));
  ASSERT_TRUE(p->signal.output_col);
  EXPECT_EQ(p->signal.output_col->value, "x");
}

TEST_F(LoaderTest, MissingSignalGenerationFields) {
  EXPECT_FALSE(load("name: x\nsignal_generation:\n  mode: batch\n  scheduling: {buffer_minutes: -1}\npipeline: []\n"));
  auto l = lines();
  // scheduling.interval is optional, as in the original (issue 16 item 3): the
  // compiler takes the prediction frame's.
  ASSERT_EQ(l.size(), 3u) << ::testing::PrintToString(l);
  EXPECT_EQ(l[0], "p.yaml:2:1: error: signal_generation: missing required key 'warmup' (with lookback_days)");
  EXPECT_EQ(l[1], "p.yaml:3:9: error: signal_generation.mode: unsupported mode 'batch' (only 'stream')");
  EXPECT_EQ(l[2],
            "p.yaml:4:32: error: signal_generation.scheduling.buffer_minutes: must be between 0 and 1440 (one day), "
            "got -1");
}

}  // namespace
}  // namespace af::dsl
