// features.levels: support/resistance position over the last `window` bars.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/rolling_extreme.hpp"

namespace af::features {
namespace {

// Levels: one (step, symbol); monotonic deques of highs and lows. Compute thread.
class Levels final : public Feature {
 public:
  explicit Levels(int64_t window)
      : window_(window), max_high_(static_cast<size_t>(window)), min_low_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double hi = max_high_.push(in[0]);
    const double lo = min_low_.push(in[1]);
    const double close = in[2];
    if (++seen_ < window_) return;
    const double range = hi - lo;
    out[0] = range == 0.0 ? 0.5 : finite_or_nan((close - lo) / range);
    if (out.size() > 1) out[1] = finite_or_nan(close / lo - 1.0);
    if (out.size() > 2) out[2] = finite_or_nan(hi / close - 1.0);
  }
  void save(StateWriter& w) const override {
    w.put(seen_);
    max_high_.save(w);
    min_low_.save(w);
  }
  bool load(StateReader& r) override {
    r.get(seen_);
    return max_high_.load(r) && min_low_.load(r) && !r.failed();
  }

 private:
  int64_t window_;
  int64_t seen_ = 0;
  RollingMax max_high_;
  RollingMin min_low_;
};

}  // namespace

registry::Descriptor levels_descriptor() {
  auto d = feature_descriptor(
      "features.levels", "Position of close between support and resistance over `window` bars",
      "Over the last `window` bars including the current one, `lo = min(low)`, `hi = max(high)`. "
      "Output 1: `(close - lo) / (hi - lo)`, 0.5 when `hi == lo`. Optional output 2: `close / lo - 1` "
      "(distance to support). Optional output 3: `hi / close - 1` (distance to resistance).",
      {"high", "low", "close"},
      {"position of close in [min(low), max(high)]", "close / min(low) - 1", "max(high) / close - 1"}, 1);
  d.params = {required_int_param("window", 1, "bars in the range, including the current one")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_levels(const FeatureContext& ctx) {
  return make_feature<Levels>(ctx.params.get_int("window"));
}

}  // namespace af::features
