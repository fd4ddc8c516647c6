#pragma once
// Naive batch references for the feature tests: each recomputes its formula
// over the whole series, window by window, written plainly and independently
// of the streaming operators (never the operator run again).

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "series.hpp"

namespace af::features::test {

using Series = std::vector<double>;
using Outputs = std::vector<Series>;
inline const double kNan = std::numeric_limits<double>::quiet_NaN();

inline double fin(double v) { return std::isfinite(v) ? v : kNan; }
inline Series nans(size_t n) { return Series(n, kNan); }

inline double mean_of(const Series& x, size_t end, size_t n) {  // x[end-n+1 .. end]
  double s = 0;
  for (size_t j = end + 1 - n; j <= end; ++j) s += x[j];
  return s / static_cast<double>(n);
}
inline double max_of(const Series& x, size_t end, size_t n) {
  double m = x[end];
  for (size_t j = end + 1 - n; j <= end; ++j) m = std::max(m, x[j]);
  return m;
}
inline double min_of(const Series& x, size_t end, size_t n) {
  double m = x[end];
  for (size_t j = end + 1 - n; j <= end; ++j) m = std::min(m, x[j]);
  return m;
}
// Two-pass variance; exactly 0 when every value is equal.
inline double var_of(const Series& x, size_t end, size_t n, int ddof) {
  bool flat = true;
  for (size_t j = end + 1 - n; j <= end; ++j) flat = flat && x[j] == x[end];
  if (flat) return 0.0;
  const double m = mean_of(x, end, n);
  double s = 0;
  for (size_t j = end + 1 - n; j <= end; ++j) s += (x[j] - m) * (x[j] - m);
  return s / static_cast<double>(n - ddof);
}

inline Series ref_sma(const Series& x, size_t n) {
  Series o = nans(x.size());
  for (size_t t = n - 1; t < x.size(); ++t) o[t] = mean_of(x, t, n);
  return o;
}

// TA-Lib EMA over the valid part of x (x may start with NaNs).
inline Series ref_ema(const Series& x, size_t n) {
  Series o = nans(x.size());
  size_t start = 0;
  while (start < x.size() && std::isnan(x[start])) ++start;
  if (start + n > x.size()) return o;
  double e = mean_of(x, start + n - 1, n);
  o[start + n - 1] = e;
  const double k = 2.0 / (static_cast<double>(n) + 1.0);
  for (size_t t = start + n; t < x.size(); ++t) {
    e = e + k * (x[t] - e);
    o[t] = e;
  }
  return o;
}

inline Outputs ref_momentum(const Bars& b, size_t n) {
  const auto& x = b.close;
  Series o = nans(x.size());
  for (size_t t = n; t < x.size(); ++t) o[t] = fin(x[t] / x[t - n] - 1.0);
  return {o};
}

inline Outputs ref_rsi(const Bars& b, size_t n) {
  const auto& x = b.close;
  Series o = nans(x.size());
  if (x.size() <= n) return {o};
  double up = 0, down = 0;
  for (size_t t = 1; t <= n; ++t) {
    const double d = x[t] - x[t - 1];
    (d > 0 ? up : down) += std::fabs(d);
  }
  up /= static_cast<double>(n);
  down /= static_cast<double>(n);
  for (size_t t = n;; ++t) {
    o[t] = (up + down) == 0 ? 0.0 : 100.0 * up / (up + down);
    if (t + 1 >= x.size()) break;
    const double d = x[t + 1] - x[t];
    up = (up * static_cast<double>(n - 1) + std::max(d, 0.0)) / static_cast<double>(n);
    down = (down * static_cast<double>(n - 1) + std::max(-d, 0.0)) / static_cast<double>(n);
  }
  return {o};
}

inline Outputs ref_ma_rocp(const Bars& b, size_t n, size_t p, double factor) {
  const Series m = ref_sma(b.close, n);
  Series o = nans(m.size());
  for (size_t t = n - 1 + p; t < m.size(); ++t) o[t] = fin((m[t] / m[t - p] - 1.0) * factor);
  return {o};
}

inline Outputs ref_levels(const Bars& b, size_t n) {
  Outputs o(3, nans(b.size()));
  for (size_t t = n - 1; t < b.size(); ++t) {
    const double hi = max_of(b.high, t, n), lo = min_of(b.low, t, n), c = b.close[t];
    o[0][t] = hi == lo ? 0.5 : (c - lo) / (hi - lo);
    o[1][t] = fin(c / lo - 1.0);
    o[2][t] = fin(hi / c - 1.0);
  }
  return o;
}

}  // namespace af::features::test
