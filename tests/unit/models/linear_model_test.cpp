#include "models/linear_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "models/register_builtins.hpp"
#include "unit/models/test_frame.hpp"

namespace af::models {
namespace {

using testing::append_row;
using testing::ContextHolder;
using testing::frame_columns;

const ModelRegistry::Entry& linear_entry(ModelRegistry& reg) {
  register_builtins(reg);
  const auto* e = reg.find("models.linear");
  EXPECT_NE(e, nullptr);
  return *e;
}

ContextHolder linear_context(std::vector<std::string> features, std::vector<double> weights, double bias,
                             std::string activation) {
  ContextHolder h;
  h.columns = frame_columns({"rsi_14", "mom_20", "score"});
  h.first_output_column = static_cast<int>(h.columns.size()) - 1;  // "score" is the model's own output
  h.params.set("features", std::move(features));
  h.params.set("weights", std::move(weights));
  h.params.set("bias", bias);
  h.params.set("activation", std::move(activation));
  return h;
}

TEST(LinearModel, DescriptorShape) {
  ModelRegistry reg;
  const auto& d = linear_entry(reg).descriptor;
  EXPECT_EQ(d.kind, registry::PluginKind::kModel);
  EXPECT_EQ(d.input, registry::InputKind::kFrame);
  EXPECT_EQ(d.output, registry::OutputKind::kColumns);
  EXPECT_EQ(d.min_outputs, 1);
  EXPECT_EQ(d.max_outputs, 1);
  registry::Params p;
  EXPECT_EQ(d.warmup_rows(p), 1);
}

TEST(LinearModel, CheckRejectsLengthMismatch) {
  ModelRegistry reg;
  const auto& d = linear_entry(reg).descriptor;
  registry::Params p;
  p.set("features", std::vector<std::string>{"a", "b"});
  p.set("weights", std::vector<double>{1.0});
  const auto errors = d.check(p);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "weights has 1 value but features has 2; they must have the same length");
  p.set("weights", std::vector<double>{1.0, 2.0});
  EXPECT_TRUE(d.check(p).empty());
}

TEST(LinearModel, PredictsWeightedSumOfNewestRow) {
  ModelRegistry reg;
  const auto& e = linear_entry(reg);
  auto h = linear_context({"mom_20", "close", "rsi_14"}, {0.5, -2.0, 0.01}, 0.25, "none");
  auto model = e.factory(h.context());
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_EQ((*model)->window(), 1);
  SymbolSeries s(h.columns.size(), 8);
  append_row(s, 0, 100.0, {40.0, 0.1, std::nan("")});
  append_row(s, 1, 3.0, {70.0, -0.2, std::nan("")});
  const double expected = 0.25 + 0.5 * -0.2 + -2.0 * 3.0 + 0.01 * 70.0;
  EXPECT_DOUBLE_EQ((*model)->predict(0, s), expected);
}

TEST(LinearModel, Activations) {
  ModelRegistry reg;
  const auto& e = linear_entry(reg);
  for (const std::string act : {"tanh", "sigmoid"}) {
    auto h = linear_context({"rsi_14"}, {0.02}, -1.0, act);
    auto model = e.factory(h.context());
    ASSERT_TRUE(model.ok());
    SymbolSeries s(h.columns.size(), 4);
    append_row(s, 0, 1.0, {80.0, 0.0});
    const double z = -1.0 + 0.02 * 80.0;
    const double expected = act == "tanh" ? std::tanh(z) : 1.0 / (1.0 + std::exp(-z));
    EXPECT_NEAR((*model)->predict(1, s), expected, 1e-15) << act;
  }
}

TEST(LinearModel, NaNInputGivesNaN) {
  ModelRegistry reg;
  const auto& e = linear_entry(reg);
  auto h = linear_context({"rsi_14", "mom_20"}, {1.0, 1.0}, 0.0, "none");
  auto model = e.factory(h.context());
  ASSERT_TRUE(model.ok());
  SymbolSeries s(h.columns.size(), 4);
  append_row(s, 0, 1.0, {50.0, std::numeric_limits<double>::quiet_NaN()});
  EXPECT_TRUE(std::isnan((*model)->predict(0, s)));
  append_row(s, 1, 1.0, {50.0, 0.5});
  EXPECT_DOUBLE_EQ((*model)->predict(0, s), 50.5);
}

TEST(LinearModel, UnknownFeatureIsAStartupErrorWithSuggestion) {
  ModelRegistry reg;
  const auto& e = linear_entry(reg);
  auto h = linear_context({"rsi14"}, {1.0}, 0.0, "none");
  auto model = e.factory(h.context());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().message,
            "models.linear: input column 'rsi14' is not a column of the model's frame (did you mean 'rsi_14'?)");
}

TEST(LinearModel, OwnOutputIsNotAnInput) {
  ModelRegistry reg;
  const auto& e = linear_entry(reg);
  auto h = linear_context({"score"}, {1.0}, 0.0, "none");
  auto model = e.factory(h.context());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("'score'"), std::string::npos);
  EXPECT_NE(model.error().message.find("not a column of the model's frame produced before the model"),
            std::string::npos);
}

TEST(LinearModel, BatchEqualsSingle) {
  ModelRegistry reg;
  const auto& e = linear_entry(reg);
  auto h = linear_context({"rsi_14", "mom_20"}, {0.3, -1.7}, 0.1, "tanh");
  auto model = e.factory(h.context());
  ASSERT_TRUE(model.ok());
  std::vector<SymbolSeries> series;
  for (int k = 0; k < 5; ++k) {
    series.emplace_back(h.columns.size(), 4);
    append_row(series.back(), 0, 1.0, {10.0 * k, 0.1 * k});
  }
  std::vector<SymbolId> ids{0, 1, 2, 3, 4};
  std::vector<const SymbolSeries*> ptrs;
  for (auto& s : series) ptrs.push_back(&s);
  std::vector<double> out(5);
  (*model)->predict_batch(ids, ptrs, out);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(out[k], (*model)->predict(ids[k], series[k]));
}

}  // namespace
}  // namespace af::models
