// features.rsi: Wilder's RSI exactly as TA-Lib's RSI.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ta_ema.hpp"

namespace af::features {
namespace {

// Rsi: one (step, symbol); Wilder averages of gains and losses. Compute thread.
class Rsi final : public Feature {
 public:
  explicit Rsi(int64_t window) : gain_(window), loss_(window) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double x = in[0];
    if (!has_prev_) {
      has_prev_ = true;
      prev_ = x;
      return;
    }
    const double change = x - prev_;
    prev_ = x;
    const double g = gain_.update(change > 0 ? change : 0.0);
    const double l = loss_.update(change < 0 ? -change : 0.0);
    if (!gain_.ready()) return;
    const double total = g + l;
    out[0] = total != 0.0 ? 100.0 * (g / total) : 0.0;
  }
  void save(StateWriter& w) const override {
    w.put(has_prev_);
    w.put(prev_);
    gain_.save(w);
    loss_.save(w);
  }
  bool load(StateReader& r) override {
    r.get(has_prev_);
    r.get(prev_);
    return gain_.load(r) && loss_.load(r);
  }

 private:
  WilderAverage gain_;
  WilderAverage loss_;
  bool has_prev_ = false;
  double prev_ = 0.0;
};

}  // namespace

registry::Descriptor rsi_descriptor() {
  auto d = feature_descriptor(
      "features.rsi", "Wilder's relative strength index (TA-Lib RSI)",
      "Changes `d = x[t] - x[t-1]`; `gain = max(d, 0)`, `loss = max(-d, 0)`. The first averages are the "
      "means of the first `window` gains and losses; then `avg = (avg*(window-1) + value) / window`. "
      "`rsi = 100 * avg_gain / (avg_gain + avg_loss)`, 0 when both are 0. Valid from row `window` "
      "(0-based), as TA-Lib `RSI` with unstable period 0. (TA-Lib treats a sum below 1e-14 as 0; this "
      "feature only an exact 0, which differs only for prices around 1e-10 and below.)",
      {}, {"RSI in [0, 100]"}, 1);
  d.params = {int_param("window", 14, 2, "averaging period, in bars")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window") + 1; };
  d.warmup_doc = "window + 1";
  d.settling_window = [](const registry::Params& p) { return p.get_int("window"); };
  return d;
}

Result<std::unique_ptr<Feature>> make_rsi(const FeatureContext& ctx) {
  return make_feature<Rsi>(ctx.params.get_int("window"));
}

}  // namespace af::features
