// features.momentum: TA-Lib's ROCP over `window` bars.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ring_window.hpp"

namespace af::features {
namespace {

// Momentum: one (step, symbol); keeps the last window+1 closes. Compute thread.
class Momentum final : public Feature {
 public:
  explicit Momentum(int64_t window) : ring_(static_cast<size_t>(window) + 1) {}

  void update(std::span<const double> in, std::span<double> out) override {
    ring_.push(in[0]);
    if (!ring_.full()) return;
    const double prev = ring_.oldest();
    // (x - prev) / prev, as TA-Lib's ROCP: exact subtraction for nearby prices.
    out[0] = finite_or_nan((in[0] - prev) / prev);
  }
  void save(StateWriter& w) const override { ring_.save(w); }
  bool load(StateReader& r) override { return ring_.load(r); }

 private:
  RingWindow ring_;
};

}  // namespace

registry::Descriptor momentum_descriptor() {
  auto d = feature_descriptor(
      "features.momentum", "Rate of change over `window` bars (TA-Lib ROCP)",
      "`momentum = close / close[t-window] - 1`, computed as `(close - close[t-window]) / close[t-window]` "
      "as TA-Lib's `ROCP` (not its `MOM`). NaN when `close[t-window]` is 0.",
      {}, {"close / close[t-window] - 1"}, 1);
  d.params = {required_int_param("window", 1, "bars back to compare with")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window") + 1; };
  d.warmup_doc = "window + 1";
  return d;
}

Result<std::unique_ptr<Feature>> make_momentum(const FeatureContext& ctx) {
  return make_feature<Momentum>(ctx.params.get_int("window"));
}

}  // namespace af::features
