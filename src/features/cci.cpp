// features.cci: commodity channel index (TA-Lib CCI).

#include <cmath>

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ring_window.hpp"

namespace af::features {
namespace {

// Cci: one (step, symbol); a window of typical prices. The mean absolute
// deviation has no O(1) update (every term moves with the mean), so it is
// recomputed over the window each bar: O(window), as TA-Lib does. Both sums
// are taken relative to the newest value, so that `tp - mean` does not cancel
// (a jump after a flat stretch) and a flat window gives exactly 0. Compute thread.
class Cci final : public Feature {
 public:
  explicit Cci(int64_t window) : tp_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double tp = (in[0] + in[1] + in[2]) / 3.0;
    tp_.push(tp);
    if (!tp_.full()) return;
    const double n = static_cast<double>(tp_.size());
    double rel = 0.0;  // sum of (v - tp)
    tp_.for_each([&](double v) { rel += v - tp; });
    const double num = -rel / n;  // tp - mean
    const double mean_rel = rel / n;  // mean - tp
    double dev = 0.0;
    tp_.for_each([&](double v) { dev += std::fabs((v - tp) - mean_rel); });
    out[0] = (num != 0.0 && dev != 0.0) ? num / (0.015 * (dev / n)) : 0.0;
  }
  void save(StateWriter& w) const override { tp_.save(w); }
  bool load(StateReader& r) override { return tp_.load(r); }

 private:
  RingWindow tp_;
};

}  // namespace

registry::Descriptor cci_descriptor() {
  auto d = feature_descriptor(
      "features.cci", "Commodity channel index (TA-Lib CCI)",
      "`tp = (high + low + close) / 3`; over the last `window` bars `m = mean(tp)`, "
      "`md = mean(|tp - m|)`; `cci = (tp - m) / (0.015 * md)`, 0 when `tp == m` or `md == 0` (TA-Lib). "
      "Costs O(window) per bar (the mean deviation), like TA-Lib.",
      {"high", "low", "close"}, {"CCI"}, 1);
  d.params = {int_param("window", 14, 2, "bars in the window")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_cci(const FeatureContext& ctx) {
  return make_feature<Cci>(ctx.params.get_int("window"));
}

}  // namespace af::features
