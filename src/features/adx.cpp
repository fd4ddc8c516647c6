// features.adx: average directional index and +DI/-DI (TA-Lib ADX, PLUS_DI, MINUS_DI).

#include <cmath>

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/true_range.hpp"

namespace af::features {
namespace {

// Adx: one (step, symbol); Wilder sums of +DM, -DM and TR, then of DX, with
// TA-Lib's phases: bars 1..n-1 accumulate plain sums; bars n..2n-1 smooth
// (`s = s - s/n + v`) and add up DX; row 2n-1 gives ADX = mean DX; then
// `adx = (adx*(n-1) + dx)/n`. Compute thread.
class Adx final : public Feature {
 public:
  explicit Adx(int64_t window) : n_(window) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double high = in[0], low = in[1], close = in[2];
    const int64_t i = bar_++;
    if (i == 0) {
      prev_high_ = high;
      prev_low_ = low;
      prev_close_ = close;
      return;
    }
    const double n = static_cast<double>(n_);
    const double diff_p = high - prev_high_;
    const double diff_m = prev_low_ - low;
    double plus = 0.0, minus = 0.0;
    if (diff_m > 0 && diff_p < diff_m)
      minus = diff_m;
    else if (diff_p > 0 && diff_p > diff_m)
      plus = diff_p;
    const double tr = true_range(high, low, prev_close_);
    prev_high_ = high;
    prev_low_ = low;
    prev_close_ = close;
    if (i < n_) {  // plain sums of the first n-1 bars
      plus_dm_ += plus;
      minus_dm_ += minus;
      tr_ += tr;
      return;
    }
    plus_dm_ = plus_dm_ - plus_dm_ / n + plus;
    minus_dm_ = minus_dm_ - minus_dm_ / n + minus;
    tr_ = tr_ - tr_ / n + tr;
    double plus_di = 0.0, minus_di = 0.0, dx = 0.0;
    bool has_dx = false;
    if (tr_ != 0.0) {
      minus_di = 100.0 * (minus_dm_ / tr_);
      plus_di = 100.0 * (plus_dm_ / tr_);
      const double sum = minus_di + plus_di;
      if (sum != 0.0) {
        dx = 100.0 * (std::fabs(minus_di - plus_di) / sum);
        has_dx = true;
      }
    }
    if (out.size() > 1) out[1] = plus_di;
    if (out.size() > 2) out[2] = minus_di;
    if (i < 2 * n_ - 1) {
      if (has_dx) sum_dx_ += dx;
      return;
    }
    if (i == 2 * n_ - 1) {
      if (has_dx) sum_dx_ += dx;
      adx_ = sum_dx_ / n;
    } else if (has_dx) {
      adx_ = ((adx_ * (n - 1.0)) + dx) / n;
    }
    out[0] = adx_;
  }
  void save(StateWriter& w) const override {
    w.put(bar_);
    w.put(prev_high_);
    w.put(prev_low_);
    w.put(prev_close_);
    w.put(plus_dm_);
    w.put(minus_dm_);
    w.put(tr_);
    w.put(sum_dx_);
    w.put(adx_);
  }
  bool load(StateReader& r) override {
    r.get(bar_);
    r.get(prev_high_);
    r.get(prev_low_);
    r.get(prev_close_);
    r.get(plus_dm_);
    r.get(minus_dm_);
    r.get(tr_);
    r.get(sum_dx_);
    r.get(adx_);
    return !r.failed();
  }

 private:
  int64_t n_;
  int64_t bar_ = 0;
  double prev_high_ = 0, prev_low_ = 0, prev_close_ = 0;
  double plus_dm_ = 0, minus_dm_ = 0, tr_ = 0;
  double sum_dx_ = 0, adx_ = 0;
};

}  // namespace

registry::Descriptor adx_descriptor() {
  auto d = feature_descriptor(
      "features.adx", "Average directional index with +DI and -DI (TA-Lib ADX, PLUS_DI, MINUS_DI)",
      "`up = high - high[t-1]`, `down = low[t-1] - low`; `+DM = up` if `up > down` and `up > 0`, "
      "`-DM = down` if `down > up` and `down > 0`, else 0; `tr` = true range. Wilder sums (TA-Lib): the "
      "first `window-1` bars are summed, then `s = s - s/window + v`. From row `window`: "
      "`+DI = 100 * sum(+DM) / sum(tr)`, `-DI = 100 * sum(-DM) / sum(tr)` (0 when `sum(tr)` is 0), "
      "`dx = 100 * |+DI - -DI| / (+DI + -DI)`. `adx` at row `2*window - 1` is the mean of the first "
      "`window` dx, then `adx = (adx*(window-1) + dx) / window`; a bar whose dx is undefined (`+DI + -DI "
      "== 0`) leaves adx unchanged, as TA-Lib. Outputs 2 and 3 are valid from row `window`.",
      {"high", "low", "close"}, {"ADX", "+DI", "-DI"}, 1);
  d.params = {int_param("window", 14, 2, "Wilder period")};
  d.warmup_rows = [](const registry::Params& p) { return 2 * p.get_int("window"); };
  d.warmup_doc = "2*window (the DI outputs: window + 1)";
  d.settling_window = [](const registry::Params& p) { return p.get_int("window"); };
  return d;
}

Result<std::unique_ptr<Feature>> make_adx(const FeatureContext& ctx) {
  return make_feature<Adx>(ctx.params.get_int("window"));
}

}  // namespace af::features
