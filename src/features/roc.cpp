// features.roc: rate of change in percent (TA-Lib ROC).

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ring_window.hpp"

namespace af::features {
namespace {

// Roc: one (step, symbol); the last window+1 values. Compute thread.
class Roc final : public Feature {
 public:
  explicit Roc(int64_t window) : ring_(static_cast<size_t>(window) + 1) {}

  void update(std::span<const double> in, std::span<double> out) override {
    ring_.push(in[0]);
    if (ring_.full()) out[0] = finite_or_nan(((in[0] / ring_.oldest()) - 1.0) * 100.0);
  }
  void save(StateWriter& w) const override { ring_.save(w); }
  bool load(StateReader& r) override { return ring_.load(r); }

 private:
  RingWindow ring_;
};

}  // namespace

registry::Descriptor roc_descriptor() {
  auto d = feature_descriptor("features.roc", "Rate of change in percent (TA-Lib ROC)",
                              "`roc = (x / x[t-window] - 1) * 100`; NaN when `x[t-window]` is 0 (TA-Lib writes 0).",
                              {}, {"ROC (percent)"}, 1);
  d.params = {int_param("window", 10, 1, "bars back to compare with")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window") + 1; };
  d.warmup_doc = "window + 1";
  return d;
}

Result<std::unique_ptr<Feature>> make_roc(const FeatureContext& ctx) {
  return make_feature<Roc>(ctx.params.get_int("window"));
}

}  // namespace af::features
