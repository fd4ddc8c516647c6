// features.volume_ratio: volume relative to its simple moving average.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/window_sum.hpp"

namespace af::features {
namespace {

// VolumeRatio: one (step, symbol); a rolling volume sum. Compute thread.
class VolumeRatio final : public Feature {
 public:
  explicit VolumeRatio(int64_t window) : sum_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    sum_.push(in[0]);
    if (!sum_.full()) return;
    const double mean = sum_.mean();
    out[0] = mean == 0.0 ? kNaN : finite_or_nan(in[0] / mean);
  }
  void save(StateWriter& w) const override { sum_.save(w); }
  bool load(StateReader& r) override { return sum_.load(r); }

 private:
  WindowSum sum_;
};

}  // namespace

registry::Descriptor volume_ratio_descriptor() {
  auto d = feature_descriptor(
      "features.volume_ratio", "Volume relative to its simple moving average",
      "Reads a volume column (`inputs.column: ohlcv.volume`). `volume_ratio = v / SMA(v, window)`, the "
      "SMA including the current bar; NaN when that SMA is 0.",
      {}, {"volume / SMA(volume)"}, 1);
  d.params = {int_param("window", 20, 1, "bars in the SMA")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_volume_ratio(const FeatureContext& ctx) {
  return make_feature<VolumeRatio>(ctx.params.get_int("window"));
}

}  // namespace af::features
