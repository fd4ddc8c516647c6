// features.sma: simple moving average (TA-Lib SMA).

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/window_sum.hpp"

namespace af::features {
namespace {

// Sma: one (step, symbol); a compensated window sum. Compute thread.
class Sma final : public Feature {
 public:
  explicit Sma(int64_t window) : sum_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    sum_.push(in[0]);
    if (sum_.full()) out[0] = sum_.mean();
  }
  void save(StateWriter& w) const override { sum_.save(w); }
  bool load(StateReader& r) override { return sum_.load(r); }

 private:
  WindowSum sum_;
};

}  // namespace

registry::Descriptor sma_descriptor() {
  auto d = feature_descriptor("features.sma", "Simple moving average (TA-Lib SMA)",
                              "`sma = (x[t-window+1] + ... + x[t]) / window`.", {}, {"SMA"}, 1);
  d.params = {int_param("window", 20, 1, "bars averaged")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_sma(const FeatureContext& ctx) {
  return make_feature<Sma>(ctx.params.get_int("window"));
}

}  // namespace af::features
