// features.zscore: distance from the rolling mean in rolling standard deviations.

#include <cmath>

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/rolling_moments.hpp"

namespace af::features {
namespace {

// Zscore: one (step, symbol); rolling moments. Compute thread.
class Zscore final : public Feature {
 public:
  Zscore(int64_t window, bool sample) : moments_(static_cast<size_t>(window)), ddof_(sample ? 1 : 0) {}

  void update(std::span<const double> in, std::span<double> out) override {
    moments_.push(in[0]);
    if (!moments_.full()) return;
    const double sd = std::sqrt(moments_.variance(ddof_));
    out[0] = sd == 0.0 ? kNaN : finite_or_nan(moments_.deviation(in[0]) / sd);
  }
  void save(StateWriter& w) const override { moments_.save(w); }
  bool load(StateReader& r) override { return moments_.load(r); }

 private:
  RollingMoments moments_;
  int ddof_;
};

}  // namespace

registry::Descriptor zscore_descriptor() {
  auto d = feature_descriptor(
      "features.zscore", "Z-score against the rolling mean and standard deviation",
      "Over the last `window` values including the current one: `zscore = (x - mean) / stdev`, with the "
      "population standard deviation (divide by `window`, as Bollinger) unless `sample: true`. NaN when "
      "the window is flat (stdev 0).",
      {}, {"z-score"}, 1);
  d.params = {int_param("window", 20, 2, "values in the window"),
              bool_param("sample", false, "sample (n-1) rather than population (n) standard deviation")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_zscore(const FeatureContext& ctx) {
  return make_feature<Zscore>(ctx.params.get_int("window"), ctx.params.get_bool("sample"));
}

}  // namespace af::features
