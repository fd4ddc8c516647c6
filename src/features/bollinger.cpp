// features.bollinger: Bollinger bands (TA-Lib BBANDS with an SMA) and %b.

#include <cmath>

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/rolling_moments.hpp"

namespace af::features {
namespace {

// Bollinger: one (step, symbol); rolling mean and population variance. Compute thread.
class Bollinger final : public Feature {
 public:
  Bollinger(int64_t window, double up, double dn) : moments_(static_cast<size_t>(window)), up_(up), dn_(dn) {}

  void update(std::span<const double> in, std::span<double> out) override {
    moments_.push(in[0]);
    if (!moments_.full()) return;
    const double mid = moments_.mean();
    const double sd = std::sqrt(moments_.variance(0));
    const double upper = mid + sd * up_;
    const double lower = mid - sd * dn_;
    out[0] = upper;
    if (out.size() > 1) out[1] = mid;
    if (out.size() > 2) out[2] = lower;
    if (out.size() > 3) out[3] = upper == lower ? kNaN : finite_or_nan((in[0] - lower) / (upper - lower));
  }
  void save(StateWriter& w) const override { moments_.save(w); }
  bool load(StateReader& r) override { return moments_.load(r); }

 private:
  RollingMoments moments_;
  double up_, dn_;
};

}  // namespace

registry::Descriptor bollinger_descriptor() {
  auto d = feature_descriptor(
      "features.bollinger", "Bollinger bands (TA-Lib BBANDS, SMA) and %b",
      "`mid = SMA(x, window)`, `sd` = population standard deviation of the same window (divide by "
      "`window`, as TA-Lib); `upper = mid + nbdev_up*sd`, `lower = mid - nbdev_dn*sd`. Optional 4th "
      "output `%b = (x - lower) / (upper - lower)`, NaN when the bands coincide.",
      {}, {"upper band", "middle band (SMA)", "lower band", "%b"}, 1);
  d.params = {int_param("window", 20, 2, "bars in the window"),
              number_param("nbdev_up", 2.0, 0.0, std::nullopt, "standard deviations above the middle band"),
              number_param("nbdev_dn", 2.0, 0.0, std::nullopt, "standard deviations below the middle band")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_bollinger(const FeatureContext& ctx) {
  return make_feature<Bollinger>(ctx.params.get_int("window"), ctx.params.get_number("nbdev_up"),
                                 ctx.params.get_number("nbdev_dn"));
}

}  // namespace af::features
