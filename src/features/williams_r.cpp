// features.williams_r: Williams %R (TA-Lib WILLR).

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/rolling_extreme.hpp"

namespace af::features {
namespace {

// WilliamsR: one (step, symbol); rolling high/low deques. Compute thread.
class WilliamsR final : public Feature {
 public:
  explicit WilliamsR(int64_t window)
      : window_(window), hi_(static_cast<size_t>(window)), lo_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double hi = hi_.push(in[0]);
    const double lo = lo_.push(in[1]);
    if (++seen_ < window_) return;
    const double diff = (hi - lo) / -100.0;  // TA-Lib's order of operations
    out[0] = diff != 0.0 ? (hi - in[2]) / diff : 0.0;
  }
  void save(StateWriter& w) const override {
    w.put(seen_);
    hi_.save(w);
    lo_.save(w);
  }
  bool load(StateReader& r) override {
    r.get(seen_);
    return hi_.load(r) && lo_.load(r);
  }

 private:
  int64_t window_;
  int64_t seen_ = 0;
  RollingMax hi_;
  RollingMin lo_;
};

}  // namespace

registry::Descriptor williams_r_descriptor() {
  auto d = feature_descriptor(
      "features.williams_r", "Williams %R (TA-Lib WILLR)",
      "`%R = -100 * (max(high) - close) / (max(high) - min(low))` over the last `window` bars including the "
      "current one; 0 when the range is 0 (TA-Lib).",
      {"high", "low", "close"}, {"%R in [-100, 0]"}, 1);
  d.params = {int_param("window", 14, 1, "bars of the high/low range")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_williams_r(const FeatureContext& ctx) {
  return make_feature<WilliamsR>(ctx.params.get_int("window"));
}

}  // namespace af::features
