#include "models/linear_model.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "models/column_lookup.hpp"
#include "registry/descriptor.hpp"
#include "registry/param.hpp"

namespace af::models {

namespace {

enum class Activation { kNone, kTanh, kSigmoid };

// One linear score per step, shared by every symbol. Holds only the resolved
// column indexes and weights: no state between calls. Owned by the Engine;
// compute thread.
class LinearModel final : public Model {
 public:
  LinearModel(std::vector<int> columns, std::vector<double> weights, double bias, Activation activation)
      : columns_(std::move(columns)), weights_(std::move(weights)), bias_(bias), activation_(activation) {}

  int64_t window() const override { return 1; }

  double predict(SymbolId /*symbol*/, const SymbolSeries& series) override {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    if (series.empty()) return kNaN;
    const double* row = series.row(0);
    double sum = bias_;
    for (size_t i = 0; i < columns_.size(); ++i) {
      const double x = row[columns_[i]];
      if (std::isnan(x)) return kNaN;
      sum += weights_[i] * x;
    }
    switch (activation_) {
      case Activation::kNone: return sum;
      case Activation::kTanh: return std::tanh(sum);
      case Activation::kSigmoid: return 1.0 / (1.0 + std::exp(-sum));
    }
    return sum;
  }

 private:
  std::vector<int> columns_;
  std::vector<double> weights_;
  double bias_;
  Activation activation_;
};

}  // namespace

void register_linear(ModelRegistry& registry) {
  using registry::ParamSpec;
  using registry::ParamType;
  registry::Descriptor d;
  d.name = "models.linear";
  d.kind = registry::PluginKind::kModel;
  d.summary = "Linear score of the newest row, optionally squashed by tanh or sigmoid";
  d.doc =
      "`prediction = act(bias + sum_i weights[i] * row[features[i]])` over the newest row of the "
      "input frame, where `act` is the identity, `tanh`, or the logistic sigmoid `1 / (1 + exp(-z))`. "
      "NaN (no prediction) when any input is NaN. `features` are columns of the input frame produced "
      "before this step; an unknown name is an error at start-up.";
  d.params = {
      ParamSpec{"features", ParamType::kStringList, true, {}, {}, {}, {}, "input column names, in order"},
      ParamSpec{"weights", ParamType::kNumberList, true, {}, {}, {}, {}, "one weight per feature, same order"},
      ParamSpec{"bias", ParamType::kNumber, false, 0.0, {}, {}, {}, "added to the weighted sum"},
      ParamSpec{"activation", ParamType::kChoice, false, std::string("none"), {}, {}, {"none", "tanh", "sigmoid"},
                "applied to the sum"},
      ParamSpec{"output_col", ParamType::kString, false, {}, {}, {}, {},
                "the emitted column (the step's output column name)"},
  };
  d.input = registry::InputKind::kFrame;
  d.output = registry::OutputKind::kColumns;
  d.min_outputs = 1;
  d.max_outputs = 1;
  d.output_docs = {"the score"};
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = "1 (the newest row only)";
  d.check = [](const registry::Params& p) {
    std::vector<std::string> errors;
    if (p.has("features") && p.has("weights")) {
      const auto nf = p.get_string_list("features").size();
      const auto nw = p.get_number_list("weights").size();
      if (nf != nw)
        errors.push_back("weights has " + std::to_string(nw) + " value" + (nw == 1 ? "" : "s") + " but features has " +
                         std::to_string(nf) + "; they must have the same length");
      if (nf == 0) errors.push_back("features must name at least one column");
    }
    return errors;
  };

  registry.add(std::move(d), [](const ModelContext& ctx) -> Result<std::unique_ptr<Model>> {
    const auto& features = ctx.params.get_string_list("features");
    const auto& weights = ctx.params.get_number_list("weights");
    if (features.size() != weights.size() || features.empty())
      return make_error("models.linear: features and weights must be non-empty and of the same length");
    auto columns = resolve_input_columns(features, ctx, "models.linear");
    if (!columns.ok()) return columns.error();
    const std::string& act = ctx.params.get_string("activation");
    const Activation activation =
        act == "tanh" ? Activation::kTanh : act == "sigmoid" ? Activation::kSigmoid : Activation::kNone;
    return std::unique_ptr<Model>(
        new LinearModel(std::move(*columns), weights, ctx.params.get_number("bias"), activation));
  });
}

}  // namespace af::models
