// The compiler: resolution, topological order, cycles, warmup arithmetic,
// resample ratios, capacity, flows per event, the prediction column. Expected
// numbers are worked out by hand in the comments, not by the compiler's code.

#include <gtest/gtest.h>

#include <algorithm>

#include "dag/compiler.hpp"
#include "dag/plan_format.hpp"
#include "dsl/loader.hpp"
#include "unit/dsl/test_catalog.hpp"

namespace af::dag {
namespace {

std::string header(int lookback_days, const std::string& interval, const std::string& data_interval) {
  return "name: t\nsignal_generation:\n  warmup:\n    lookback_days: " + std::to_string(lookback_days) +
         "\n  scheduling:\n    interval: " + interval +
         "\npipeline:\n  - data:\n      using: data.binance_futures\n      outputs: {frame: ohlcv}\n"
         "      params: {universe: [BTCUSDT, ETHUSDT], interval: " +
         data_interval + "}\n";
}

std::string feature(const std::string& plugin, const std::string& column, const std::string& out,
                    const std::string& params) {
  return "  - features:\n      using: " + plugin + "\n      inputs: {column: " + column + "}\n      outputs: {columns: [\"" +
         out + "\"]}\n      params: {" + params + "}\n";
}

std::string model(const std::string& frame, int window, const std::string& out) {
  return "  - model:\n      using: models.windowed\n      inputs: {frame: " + frame + "}\n      outputs: {columns: [" +
         out + "]}\n      params: {window_size: " + std::to_string(window) + "}\n";
}

std::string resample(const std::string& from, const std::string& to, const std::string& freq) {
  return "  - transform:\n      using: transforms.resample\n      inputs: {frame: " + from + "}\n      outputs: {frame: " +
         to + "}\n      params: {target_freq: " + freq + "}\n";
}

class CompilerTest : public ::testing::Test {
 protected:
  std::optional<Plan> compile_text(const std::string& text) {
    diags = Diagnostics();
    auto p = dsl::load_pipeline_text(text, "p.yaml", cat.catalog(), diags);
    if (!p) return std::nullopt;
    return compile(*p, cat.catalog(), diags);
  }
  std::vector<std::string> errors() {
    diags.sort();
    std::vector<std::string> out;
    for (const auto& d : diags.errors()) out.push_back(d.to_string());
    return out;
  }
  const StepPlan& step(const Plan& plan, const std::string& output) {
    for (const auto& s : plan.steps)
      for (int c : s.output_columns)
        if (plan.frames[s.frame].columns[c] == output) return s;
    ADD_FAILURE() << "no step writes " << output;
    return plan.steps.front();
  }

  testing::TestCatalog cat;
  Diagnostics diags;
};

TEST_F(CompilerTest, WarmupArithmeticAlongTheDeepestPath) {
  auto plan = compile_text(header(30, "1h", "1h") +
                           feature("features.rsi", "ohlcv.close", "rsi14", "window: 14") +
                           feature("features.sma", "ohlcv.close", "sma60", "window: 60") +
                           feature("features.rocp", "ohlcv.sma60", "sma60_rocp", "period: 1") + model("ohlcv", 30, "pred"));
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors());
  EXPECT_EQ(step(*plan, "rsi14").valid_after_rows, 15);       // window + 1
  EXPECT_EQ(step(*plan, "sma60").valid_after_rows, 60);       // window
  EXPECT_EQ(step(*plan, "sma60_rocp").need_rows, 2);
  EXPECT_EQ(step(*plan, "sma60_rocp").valid_after_rows, 61);  // 1 + 59 + 1
  EXPECT_EQ(step(*plan, "pred").valid_after_rows, 90);        // 61 + 29
  ASSERT_EQ(plan->frames.size(), 1u);
  EXPECT_EQ(plan->frames[0].warmup_rows, 90);
  EXPECT_EQ(plan->frames[0].capacity, 135);  // ceil(1.5 x 90)
  ASSERT_EQ(plan->sources.size(), 1u);
  EXPECT_EQ(plan->sources[0].warmup_bars, 90);
  EXPECT_EQ(plan->sources[0].lookback_bars, 720);  // 30 x 24
  EXPECT_EQ(plan->sources[0].universe, (std::vector<std::string>{"BTCUSDT", "ETHUSDT"}));
  EXPECT_EQ(plan->sources[0].event, "data.binance_futures_1h");
  EXPECT_EQ(plan->prediction_column, "pred");
  EXPECT_EQ(plan->frames[plan->prediction.frame].columns[plan->prediction.column], "pred");
}

TEST_F(CompilerTest, CapacityRule) {
  EXPECT_EQ(frame_capacity(1), 2);
  EXPECT_EQ(frame_capacity(2), 3);
  EXPECT_EQ(frame_capacity(15), 23);  // 22.5 rounded up
  EXPECT_EQ(frame_capacity(90), 135);
}

TEST_F(CompilerTest, LookbackTooShortShowsTheArithmetic) {
  auto plan = compile_text(header(3, "1h", "1h") + feature("features.sma", "ohlcv.close", "sma60", "window: 60") +
                           feature("features.rocp", "ohlcv.sma60", "r", "") + model("ohlcv", 30, "pred"));
  EXPECT_FALSE(plan);
  auto e = errors();
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "p.yaml:4:20: error: signal_generation.warmup.lookback_days: lookback_days 3 gives 3 x 24 = 72 bars of 1h, "
            "but frame 'ohlcv' needs 90 rows (1 + (60-1) pipeline[1].features + (2-1) pipeline[2].features + (30-1) "
            "pipeline[3].model = 90); lookback_days must be at least 4");
}

// A step's warmup is bounded before the sums along a path (issue 12 item 14):
// two windows of 2^62 rows used to overflow int64 and compile to nonsense.
TEST_F(CompilerTest, StepWarmupIsBoundedBeforeTheArithmetic) {
  auto plan = compile_text(header(30, "1h", "1h") +
                           feature("features.sma", "ohlcv.close", "sma", "window: 4611686018427387904") +
                           "  - model:\n      using: models.windowed\n      inputs: {frame: ohlcv}\n"
                           "      outputs: {columns: [pred]}\n      params: {window_size: 4611686018427387904}\n");
  EXPECT_FALSE(plan);
  auto e = errors();
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "p.yaml:12:5: error: pipeline[1].features: needs 4611686018427387904 rows of history before its first value; "
            "a step may need at most 1000000");
  EXPECT_EQ(e[1],
            "p.yaml:17:5: error: pipeline[2].model: needs 4611686018427387904 rows of history before its first value; "
            "a step may need at most 1000000");
}

TEST_F(CompilerTest, ResampleRatioConvertsWarmupToSourceBars) {
  auto plan = compile_text(header(5, "2h", "15m") + resample("ohlcv", "ohlcv_2h", "2h") +
                           feature("features.sma", "ohlcv_2h.close", "sma60", "window: 60") +
                           feature("features.rocp", "ohlcv_2h.sma60", "r", "") + model("ohlcv_2h", 30, "pred"));
  // 90 rows of 2h = 90 x 8 = 720 bars of 15m; 5 days give 5 x 96 = 480.
  EXPECT_FALSE(plan);
  auto e = errors();
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "p.yaml:4:20: error: signal_generation.warmup.lookback_days: lookback_days 5 gives 5 x 96 = 480 bars of "
            "15m, but frame 'ohlcv_2h' needs 90 rows of 2h = 90 x 8 = 720 bars of 15m (1 + (60-1) pipeline[2].features "
            "+ (2-1) pipeline[3].features + (30-1) pipeline[4].model = 90); lookback_days must be at least 8");

  plan = compile_text(header(8, "2h", "15m") + resample("ohlcv", "ohlcv_2h", "2h") +
                      feature("features.sma", "ohlcv_2h.close", "sma60", "window: 60") +
                      feature("features.rocp", "ohlcv_2h.sma60", "r", "") + model("ohlcv_2h", 30, "pred"));
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors());
  EXPECT_EQ(plan->sources[0].warmup_bars, 720);
  EXPECT_EQ(plan->sources[0].lookback_bars, 768);
  ASSERT_EQ(plan->frames.size(), 2u);
  EXPECT_EQ(plan->frames[0].warmup_rows, 1);  // the resample reads bars only
  EXPECT_EQ(plan->frames[0].capacity, 2);
  EXPECT_EQ(plan->frames[1].interval_ms, 2 * kHourMs);
  EXPECT_EQ(plan->frames[1].warmup_rows, 90);
  EXPECT_EQ(plan->coarsest_interval_ms, 2 * kHourMs);
}

TEST_F(CompilerTest, FlowsPerEvent) {
  auto plan = compile_text(header(30, "2h", "15m") + feature("features.rsi", "ohlcv.close", "rsi_fast", "") +
                           resample("ohlcv", "ohlcv_2h", "2h") +
                           feature("features.rsi", "ohlcv_2h.close", "rsi_slow", "") + model("ohlcv_2h", 3, "pred"));
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors());
  ASSERT_EQ(plan->frames.size(), 2u);
  EXPECT_EQ(plan->frames[0].event, "data.binance_futures_15m");
  EXPECT_EQ(plan->frames[1].event, "frame.ohlcv_2h");
  ASSERT_EQ(plan->flows.size(), 2u);
  auto labels = [&](const Flow& f) {
    std::vector<std::string> out;
    for (int s : f.steps) out.push_back(plan->steps[s].label);
    return out;
  };
  EXPECT_EQ(plan->flows[0].event, "data.binance_futures_15m");
  EXPECT_EQ(labels(plan->flows[0]), (std::vector<std::string>{"pipeline[1].features", "pipeline[2].transform"}));
  EXPECT_EQ(plan->flows[1].event, "frame.ohlcv_2h");
  EXPECT_EQ(labels(plan->flows[1]), (std::vector<std::string>{"pipeline[3].features", "pipeline[4].model"}));
  // The model reads every column before its own output: 9 bar columns + rsi_slow.
  const StepPlan& m = step(*plan, "pred");
  ASSERT_EQ(m.inputs.size(), 10u);
  EXPECT_EQ(plan->frames[1].columns[m.inputs.back().column], "rsi_slow");
  EXPECT_EQ(plan->frames[1].columns[m.inputs.front().column], "open");
  // The warmup of the 2h frame in 15m bars: (15 + 2) rows x 8 = 136 > rsi_fast's 15.
  EXPECT_EQ(plan->frames[1].warmup_rows, 17);
  EXPECT_EQ(plan->sources[0].warmup_bars, 136);
}

TEST_F(CompilerTest, TopologicalOrderIsStableAndFollowsDependencies) {
  // rocp reads sma60, which is declared after it: sma60 must run first; the
  // independent rsi keeps its place.
  auto plan = compile_text(header(30, "1h", "1h") + feature("features.rocp", "ohlcv.sma60", "r", "") +
                           feature("features.rsi", "ohlcv.close", "rsi", "") +
                           feature("features.sma", "ohlcv.close", "sma60", "window: 60") + model("ohlcv", 2, "pred"));
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors());
  std::vector<std::string> order;
  for (const auto& s : plan->steps) order.push_back(s.label);
  EXPECT_EQ(order, (std::vector<std::string>{"pipeline[0].data", "pipeline[2].features", "pipeline[3].features",
                                             "pipeline[1].features", "pipeline[4].model"}));
  // Frame columns follow the plan's step order.
  const auto& cols = plan->frames[0].columns;
  EXPECT_EQ(std::vector<std::string>(cols.begin() + 9, cols.end()),
            (std::vector<std::string>{"rsi", "sma60", "r", "pred"}));
  for (size_t i = 0; i < plan->steps.size(); ++i) EXPECT_EQ(plan->steps[i].id, static_cast<int>(i));
}

TEST_F(CompilerTest, ColumnAddressSplitsAtTheFirstDot) {
  auto plan = compile_text(header(30, "1h", "1h") + feature("features.sma", "ohlcv.close", "sma.60", "window: 60") +
                           feature("features.rocp", "ohlcv.sma.60", "r", "") + model("ohlcv", 2, "pred"));
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors());
  const StepPlan& r = step(*plan, "r");
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(plan->frames[r.inputs[0].frame].name, "ohlcv");
  EXPECT_EQ(plan->frames[r.inputs[0].frame].columns[r.inputs[0].column], "sma.60");
}

TEST_F(CompilerTest, CycleIsReportedOnceWithItsSteps) {
  auto plan = compile_text(header(30, "1h", "1h") + feature("features.rocp", "ohlcv.b", "a", "") +
                           feature("features.rocp", "ohlcv.a", "b", "") + model("ohlcv", 2, "pred"));
  EXPECT_FALSE(plan);
  EXPECT_EQ(errors(), std::vector<std::string>{
                          "p.yaml:12:5: error: pipeline[1].features: dependency cycle: pipeline[1].features -> "
                          "pipeline[2].features -> pipeline[1].features"});
  // A feature over the model's output on the model's own frame is a cycle too:
  // the model reads every column of its frame.
  plan = compile_text(header(30, "1h", "1h") + model("ohlcv", 2, "pred") +
                      feature("features.rocp", "ohlcv.pred", "pred_rocp", ""));
  EXPECT_FALSE(plan);
  EXPECT_EQ(errors(), std::vector<std::string>{
                          "p.yaml:12:5: error: pipeline[1].model: dependency cycle: pipeline[1].model -> "
                          "pipeline[2].features -> pipeline[1].model"});
}

TEST_F(CompilerTest, ResolutionErrors) {
  auto plan = compile_text(header(30, "1h", "1h") + feature("features.rsi", "ohlcv.clse", "a", "") +
                           feature("features.rsi", "ohlc.close", "b", "") + feature("features.rsi", "ohlcv.close", "a", "") +
                           feature("features.rsi", "ohlcv.close", "close", "") + model("ohlcv", 2, "pred"));
  EXPECT_FALSE(plan);
  EXPECT_EQ(errors(),
            (std::vector<std::string>{
                "p.yaml:14:24: error: pipeline[1].features.inputs.column: unknown column 'clse' of frame 'ohlcv' (did "
                "you mean 'close'?)",
                "p.yaml:19:24: error: pipeline[2].features.inputs.column: unknown frame 'ohlc' in 'ohlc.close' (did "
                "you mean 'ohlcv'?)",
                "p.yaml:25:27: error: pipeline[3].features.outputs.columns[0]: duplicate column 'a' on frame 'ohlcv': "
                "also written by pipeline[1].features (line 15)",
                "p.yaml:30:27: error: pipeline[4].features.outputs.columns[0]: duplicate column 'close' on frame "
                "'ohlcv': it is a column of the frame itself (from pipeline[0].data)"}));
}

TEST_F(CompilerTest, PredictionFrameMustMatchSchedulingInterval) {
  auto plan = compile_text(header(30, "1h", "15m") + resample("ohlcv", "ohlcv_2h", "2h") + model("ohlcv_2h", 2, "pred"));
  EXPECT_FALSE(plan);
  EXPECT_EQ(errors(), std::vector<std::string>{
                          "p.yaml:6:15: error: signal_generation.scheduling.interval: the prediction column 'pred' is "
                          "on frame 'ohlcv_2h' of 2h, but scheduling.interval is 1h; they must be equal"});
  // Without a model there is nothing to emit unless output_col names a column.
  plan = compile_text(header(30, "1h", "1h") + feature("features.rsi", "ohlcv.close", "rsi", ""));
  EXPECT_FALSE(plan);
  EXPECT_EQ(errors(), std::vector<std::string>{"p.yaml: error: signal_generation: no prediction column: add a model "
                                               "step or set signal_generation.output_col"});
  std::string text = header(30, "1h", "1h") + feature("features.rsi", "ohlcv.close", "rsi", "");
  text.replace(text.find("pipeline:"), 0, "  output_col: rsi\n");
  plan = compile_text(text);
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors());
  EXPECT_EQ(plan->prediction_column, "rsi");
}

TEST_F(CompilerTest, TransformIntervalMustBeAMultiple) {
  auto plan = compile_text(header(30, "1h", "2h") + resample("ohlcv", "h", "1h") + model("h", 2, "pred"));
  EXPECT_FALSE(plan);
  EXPECT_EQ(errors(), std::vector<std::string>{"p.yaml:12:5: error: pipeline[1].transform.params: target_freq 1h is "
                                               "not a multiple of the input interval 2h"});
}

TEST_F(CompilerTest, SettlingWarningAndDeterministicOutput) {
  auto text = header(2, "1h", "1h") + feature("features.rsi", "ohlcv.close", "rsi", "window: 14") + model("ohlcv", 2, "p");
  auto plan = compile_text(text);
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors());
  // The settling warning, and (this pipeline has no on_prediction) the no-sinks one.
  ASSERT_EQ(plan->warnings.size(), 2u);
  std::vector<std::string> texts;
  for (const auto& w : plan->warnings) texts.push_back(w.to_string());
  EXPECT_NE(std::find(texts.begin(), texts.end(),
                      "p.yaml:12:5: warning: pipeline[1].features: lookback_days 2 gives 48 rows of 1h on frame 'ohlcv', "
                      "less than 10 x 14 = 140 for features.rsi to settle; its first values depend on where the history "
                      "starts"),
            texts.end())
      << ::testing::PrintToString(texts);
  EXPECT_EQ(std::count_if(texts.begin(), texts.end(),
                          [](const std::string& s) {
                            return s.find("warning: signal_generation.on_prediction: no sinks: `signal` refuses to run "
                                          "without one") != std::string::npos;
                          }),
            1)
      << ::testing::PrintToString(texts);
  auto again = compile_text(text);
  ASSERT_TRUE(again);
  EXPECT_EQ(format_plan(*plan), format_plan(*again));
  EXPECT_EQ(plan_to_json(*plan).dump(), plan_to_json(*again).dump());
  const auto j = plan_to_json(*plan);
  EXPECT_EQ(j["frames"][0]["warmup_rows"], 16);  // 15 + (2 - 1)
  EXPECT_EQ(j["prediction"]["column"], "p");
  EXPECT_EQ(j["flows"][0]["event"], "data.binance_futures_1h");
}

}  // namespace
}  // namespace af::dag

namespace af::dag {
namespace {

// Every one-line deletion and every truncation of a valid pipeline either
// compiles or reports at least one error with a position; nothing throws or
// crashes, and a failed compile never comes back with a plan.
TEST(CompilerRobustness, DamagedPipelinesGiveErrorsNotCrashes) {
  testing::TestCatalog cat;
  const std::string text = "expand:\n  w: [5, 20]\n" + header(30, "2h", "15m") + resample("ohlcv", "ohlcv_2h", "2h") +
                           "  - features:\n      using: features.sma\n      inputs: {column: ohlcv_2h.close}\n"
                           "      outputs: {columns: [\"sma{window}\"]}\n      params:\n        window: ${expand.w}\n" +
                           feature("features.rocp", "ohlcv_2h.sma20", "r", "") + model("ohlcv_2h", 3, "pred");
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start + 1));
    start = end + 1;
  }
  auto check = [&](const std::string& damaged) {
    Diagnostics diags;
    std::optional<Plan> plan;
    EXPECT_NO_THROW({
      if (auto p = dsl::load_pipeline_text(damaged, "d.yaml", cat.catalog(), diags))
        plan = compile(*p, cat.catalog(), diags);
    }) << damaged;
    if (!plan) {
      ASSERT_TRUE(diags.has_errors()) << damaged;
      for (const auto& d : diags.errors()) EXPECT_FALSE(d.message.empty());
    } else {
      EXPECT_FALSE(diags.has_errors()) << damaged;
    }
  };
  {
    Diagnostics diags;
    auto p = dsl::load_pipeline_text(text, "d.yaml", cat.catalog(), diags);
    ASSERT_TRUE(p && compile(*p, cat.catalog(), diags)) << diags.items().at(0).to_string();
  }
  for (size_t skip = 0; skip < lines.size(); ++skip) {
    std::string damaged;
    for (size_t i = 0; i < lines.size(); ++i)
      if (i != skip) damaged += lines[i];
    check(damaged);
  }
  for (size_t cut = 0; cut < text.size(); cut += 7) check(text.substr(0, cut));
}

}  // namespace
}  // namespace af::dag

namespace af::dag {
namespace {

// `{param}` also names output frames: one expanded transform, two frames, each
// with its own event and flow.
TEST(CompilerExpansion, ExpandedTransformMakesOneFramePerValue) {
  testing::TestCatalog cat;
  const std::string text = "expand:\n  freqs: [2h, 4h]\n" + header(30, "2h", "1h") +
                           "  - transform:\n      using: transforms.resample\n      inputs: {frame: ohlcv}\n"
                           "      outputs: {frame: \"ohlcv_{target_freq}\"}\n"
                           "      params:\n        target_freq: ${expand.freqs}\n" +
                           feature("features.rsi", "ohlcv_4h.close", "rsi", "") + model("ohlcv_2h", 2, "pred");
  Diagnostics diags;
  auto p = dsl::load_pipeline_text(text, "p.yaml", cat.catalog(), diags);
  ASSERT_TRUE(p) << (diags.items().empty() ? "" : diags.items()[0].to_string());
  auto plan = compile(*p, cat.catalog(), diags);
  ASSERT_TRUE(plan) << (diags.items().empty() ? "" : diags.items()[0].to_string());
  ASSERT_EQ(plan->frames.size(), 3u);
  EXPECT_EQ(plan->frames[1].name, "ohlcv_2h");
  EXPECT_EQ(plan->frames[1].interval_ms, 2 * kHourMs);
  EXPECT_EQ(plan->frames[2].name, "ohlcv_4h");
  EXPECT_EQ(plan->frames[2].event, "frame.ohlcv_4h");
  ASSERT_EQ(plan->flows.size(), 3u);
  EXPECT_EQ(plan->flows[0].steps.size(), 2u);  // both transforms read ohlcv
  EXPECT_EQ(plan->steps[plan->flows[0].steps[1]].label, "pipeline[1].transform{target_freq=4h}");
  // ohlcv_4h: rsi(14) = 15 rows x 4 = 60 bars of 1h; ohlcv_2h: 2 rows x 2 = 4.
  EXPECT_EQ(plan->sources[0].warmup_bars, 60);
}

}  // namespace
}  // namespace af::dag
