#pragma once
// The operator behind features.atr and features.natr (they differ only in the
// final normalisation) and their shared descriptor.

#include <string>

#include "features/feature_helpers.hpp"
#include "features/ta_ema.hpp"
#include "features/true_range.hpp"

namespace af::features {

// Atr: one (step, symbol); Wilder average of the true range, which starts at
// the second bar (the first has no previous close). Compute thread.
class Atr final : public Feature {
 public:
  Atr(int64_t window, bool normalized) : avg_(window), normalized_(normalized) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double close = in[2];
    if (!has_prev_) {
      has_prev_ = true;
      prev_close_ = close;
      return;
    }
    const double atr = avg_.update(true_range(in[0], in[1], prev_close_));
    prev_close_ = close;
    if (!avg_.ready()) return;
    out[0] = normalized_ ? finite_or_nan((atr / close) * 100.0) : atr;
  }
  void save(StateWriter& w) const override {
    w.put(has_prev_);
    w.put(prev_close_);
    avg_.save(w);
  }
  bool load(StateReader& r) override {
    r.get(has_prev_);
    r.get(prev_close_);
    return avg_.load(r);
  }

 private:
  WilderAverage avg_;
  bool normalized_;
  bool has_prev_ = false;
  double prev_close_ = 0.0;
};

inline registry::Descriptor atr_like(bool normalized) {
  auto d = feature_descriptor(
      normalized ? "features.natr" : "features.atr",
      normalized ? "Normalized average true range, percent of close (TA-Lib NATR)"
                 : "Wilder's average true range (TA-Lib ATR)",
      std::string("`tr = max(high - low, |high - close[t-1]|, |low - close[t-1]|)` from the second bar on. "
                  "`atr` at row `window` is the mean of the first `window` true ranges, then "
                  "`atr = (atr*(window-1) + tr) / window` (TA-Lib's seeding).") +
          (normalized ? " `natr = 100 * atr / close`; NaN when close is 0 (TA-Lib writes 0)." : ""),
      {"high", "low", "close"}, {normalized ? "NATR (percent)" : "ATR"}, 1);
  d.params = {int_param("window", 14, 1, "Wilder smoothing period")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window") + 1; };
  d.warmup_doc = "window + 1";
  d.settling_window = [](const registry::Params& p) { return p.get_int("window"); };
  return d;
}

}  // namespace af::features
