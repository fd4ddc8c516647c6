// features.vwap: rolling volume-weighted average of the typical price.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/window_sum.hpp"

namespace af::features {
namespace {

// Vwap: one (step, symbol); rolling sums of price*volume and of volume. Compute thread.
class Vwap final : public Feature {
 public:
  explicit Vwap(int64_t window) : pv_(static_cast<size_t>(window)), v_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double tp = (in[0] + in[1] + in[2]) / 3.0;
    pv_.push(tp * in[3]);
    v_.push(in[3]);
    if (!v_.full()) return;
    const double vol = v_.sum();
    out[0] = vol == 0.0 ? kNaN : finite_or_nan(pv_.sum() / vol);
  }
  void save(StateWriter& w) const override {
    pv_.save(w);
    v_.save(w);
  }
  bool load(StateReader& r) override { return pv_.load(r) && v_.load(r); }

 private:
  WindowSum pv_, v_;
};

}  // namespace

registry::Descriptor vwap_descriptor() {
  auto d = feature_descriptor(
      "features.vwap", "Rolling volume-weighted average price",
      "`tp = (high + low + close) / 3`; over the last `window` bars `vwap = sum(tp * volume) / sum(volume)`; "
      "NaN when the volume of the window is 0.",
      {"high", "low", "close", "volume"}, {"VWAP"}, 1);
  d.params = {int_param("window", 20, 1, "bars in the window")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_vwap(const FeatureContext& ctx) {
  return make_feature<Vwap>(ctx.params.get_int("window"));
}

}  // namespace af::features
