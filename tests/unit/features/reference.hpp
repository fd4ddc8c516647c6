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

// Window statistics in long double (64-bit mantissa on x86): a reference more
// accurate than the operators, so that a flat window's mean is its value
// exactly and the midpoint of two adjacent doubles is not rounded away.
using Wide = long double;
inline Wide wide_mean(const Series& x, size_t end, size_t n) {  // x[end-n+1 .. end]
  Wide s = 0;  // relative to the newest value: no rounding of large sums
  for (size_t j = end + 1 - n; j <= end; ++j) s += static_cast<Wide>(x[j]) - x[end];
  return x[end] + s / static_cast<Wide>(n);
}
inline double mean_of(const Series& x, size_t end, size_t n) { return static_cast<double>(wide_mean(x, end, n)); }
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
  const Wide m = wide_mean(x, end, n);
  Wide s = 0;
  for (size_t j = end + 1 - n; j <= end; ++j) s += (x[j] - m) * (x[j] - m);
  return static_cast<double>(s / static_cast<Wide>(n - ddof));
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

inline Series typical(const Bars& b) {
  Series tp(b.size());
  for (size_t t = 0; t < b.size(); ++t) tp[t] = (b.high[t] + b.low[t] + b.close[t]) / 3.0;
  return tp;
}
inline Series true_ranges(const Bars& b) {  // tr[0] is NaN (no previous close)
  Series tr = nans(b.size());
  for (size_t t = 1; t < b.size(); ++t)
    tr[t] = std::max({b.high[t] - b.low[t], std::fabs(b.high[t] - b.close[t - 1]), std::fabs(b.low[t] - b.close[t - 1])});
  return tr;
}

inline Outputs ref_wma(const Bars& b, size_t n) {
  const auto& x = b.close;
  Series o = nans(x.size());
  for (size_t t = n - 1; t < x.size(); ++t) {
    double s = 0;
    for (size_t i = 1; i <= n; ++i) s += static_cast<double>(i) * x[t + 1 - n + i - 1];
    o[t] = s / (static_cast<double>(n) * static_cast<double>(n + 1) / 2.0);
  }
  return {o};
}

inline Outputs ref_dema(const Bars& b, size_t n) {
  const Series e1 = ref_ema(b.close, n), e2 = ref_ema(e1, n);
  Series o = nans(e1.size());
  for (size_t t = 0; t < o.size(); ++t) o[t] = 2 * e1[t] - e2[t];
  return {o};
}

inline Outputs ref_tema(const Bars& b, size_t n) {
  const Series e1 = ref_ema(b.close, n), e2 = ref_ema(e1, n), e3 = ref_ema(e2, n);
  Series o = nans(e1.size());
  for (size_t t = 0; t < o.size(); ++t) o[t] = 3 * e1[t] - 3 * e2[t] + e3[t];
  return {o};
}

inline Outputs ref_macd(const Bars& b, size_t fast, size_t slow, size_t signal) {
  const auto& x = b.close;
  Series line = nans(x.size());
  double ef = mean_of(x, slow - 1, fast), es = mean_of(x, slow - 1, slow);
  const double kf = 2.0 / (static_cast<double>(fast) + 1.0), ks = 2.0 / (static_cast<double>(slow) + 1.0);
  for (size_t t = slow - 1; t < x.size(); ++t) {
    if (t >= slow) {
      ef += kf * (x[t] - ef);
      es += ks * (x[t] - es);
    }
    line[t] = ef - es;
  }
  const Series sig = ref_ema(line, signal);
  Outputs o(3, nans(x.size()));
  for (size_t t = 0; t < x.size(); ++t) {
    if (std::isnan(sig[t])) continue;
    o[0][t] = line[t];
    o[1][t] = sig[t];
    o[2][t] = line[t] - sig[t];
  }
  return o;
}

inline Outputs ref_bollinger(const Bars& b, size_t n, double up, double dn) {
  const auto& x = b.close;
  Outputs o(4, nans(x.size()));
  for (size_t t = n - 1; t < x.size(); ++t) {
    const double m = mean_of(x, t, n), sd = std::sqrt(var_of(x, t, n, 0));
    o[0][t] = m + up * sd;
    o[1][t] = m;
    o[2][t] = m - dn * sd;
    o[3][t] = sd == 0 ? kNan : (x[t] - o[2][t]) / (o[0][t] - o[2][t]);
  }
  return o;
}

inline Outputs ref_atr(const Bars& b, size_t n, bool normalized) {
  const Series tr = true_ranges(b);
  Series o = nans(b.size());
  if (b.size() <= n) return {o};
  double a = 0;
  for (size_t t = 1; t <= n; ++t) a += tr[t];
  a /= static_cast<double>(n);
  for (size_t t = n; t < b.size(); ++t) {
    if (t > n) a = (a * static_cast<double>(n - 1) + tr[t]) / static_cast<double>(n);
    o[t] = normalized ? fin(100.0 * a / b.close[t]) : a;
  }
  return {o};
}

inline Outputs ref_stochastic(const Bars& b, size_t fk, size_t sk, size_t sd) {
  Series fast = nans(b.size());
  for (size_t t = fk - 1; t < b.size(); ++t) {
    const double hi = max_of(b.high, t, fk), lo = min_of(b.low, t, fk);
    fast[t] = hi == lo ? 0.0 : 100.0 * (b.close[t] - lo) / (hi - lo);
  }
  Series k = nans(b.size()), d = nans(b.size());
  for (size_t t = fk + sk - 2; t < b.size(); ++t) k[t] = mean_of(fast, t, sk);
  for (size_t t = fk + sk + sd - 3; t < b.size(); ++t) d[t] = mean_of(k, t, sd);
  for (size_t t = 0; t < b.size(); ++t)
    if (std::isnan(d[t])) k[t] = kNan;
  return {k, d};
}

inline Outputs ref_williams_r(const Bars& b, size_t n) {
  Series o = nans(b.size());
  for (size_t t = n - 1; t < b.size(); ++t) {
    const double hi = max_of(b.high, t, n), lo = min_of(b.low, t, n);
    o[t] = hi == lo ? 0.0 : -100.0 * (hi - b.close[t]) / (hi - lo);
  }
  return {o};
}

inline Outputs ref_cci(const Bars& b, size_t n) {
  const Series tp = typical(b);
  Series o = nans(b.size());
  for (size_t t = n - 1; t < b.size(); ++t) {
    const Wide m = wide_mean(tp, t, n);
    Wide md = 0;
    for (size_t j = t + 1 - n; j <= t; ++j) md += std::fabs(tp[j] - m);
    md /= static_cast<Wide>(n);
    o[t] = (tp[t] == m || md == 0) ? 0.0 : static_cast<double>((tp[t] - m) / (0.015L * md));
  }
  return {o};
}

// ADX in three plain passes: +DM/-DM/TR series, Wilder sums with TA-Lib's
// seeding, then DX and its average.
inline Outputs ref_adx(const Bars& b, size_t n) {
  const size_t len = b.size();
  const double nn = static_cast<double>(n);
  const Series tr = true_ranges(b);
  Series pdm(len, 0.0), mdm(len, 0.0);
  for (size_t t = 1; t < len; ++t) {
    const double up = b.high[t] - b.high[t - 1], down = b.low[t - 1] - b.low[t];
    if (up > down && up > 0) pdm[t] = up;
    if (down > up && down > 0) mdm[t] = down;
  }
  Outputs o(3, nans(len));
  Series dx = nans(len);
  double sp = 0, sm = 0, st = 0;
  for (size_t t = 1; t < len; ++t) {
    if (t < n) {
      sp += pdm[t];
      sm += mdm[t];
      st += tr[t];
      continue;
    }
    sp = sp - sp / nn + pdm[t];
    sm = sm - sm / nn + mdm[t];
    st = st - st / nn + tr[t];
    const double pdi = st == 0 ? 0.0 : 100.0 * sp / st, mdi = st == 0 ? 0.0 : 100.0 * sm / st;
    o[1][t] = pdi;
    o[2][t] = mdi;
    if (st != 0 && pdi + mdi != 0) dx[t] = 100.0 * std::fabs(pdi - mdi) / (pdi + mdi);
  }
  if (len < 2 * n) return o;
  double adx = 0;
  for (size_t t = n; t <= 2 * n - 1; ++t)
    if (!std::isnan(dx[t])) adx += dx[t];
  adx /= nn;
  o[0][2 * n - 1] = adx;
  for (size_t t = 2 * n; t < len; ++t) {
    if (!std::isnan(dx[t])) adx = (adx * (nn - 1) + dx[t]) / nn;
    o[0][t] = adx;
  }
  return o;
}

inline Outputs ref_obv(const Bars& b) {
  Series o(b.size());
  double v = b.volume[0];
  o[0] = v;
  for (size_t t = 1; t < b.size(); ++t) {
    if (b.close[t] > b.close[t - 1]) v += b.volume[t];
    if (b.close[t] < b.close[t - 1]) v -= b.volume[t];
    o[t] = v;
  }
  return {o};
}

inline Outputs ref_mfi(const Bars& b, size_t n) {
  const Series tp = typical(b);
  Series o = nans(b.size());
  for (size_t t = n; t < b.size(); ++t) {
    double pos = 0, neg = 0;
    for (size_t j = t + 1 - n; j <= t; ++j) {
      if (tp[j] > tp[j - 1]) pos += tp[j] * b.volume[j];
      if (tp[j] < tp[j - 1]) neg += tp[j] * b.volume[j];
    }
    o[t] = pos + neg == 0 ? 0.0 : 100.0 * pos / (pos + neg);
  }
  return {o};
}

inline Outputs ref_roc(const Bars& b, size_t n) {
  Series o = nans(b.size());
  for (size_t t = n; t < b.size(); ++t) o[t] = fin(100.0 * (b.close[t] / b.close[t - n] - 1.0));
  return {o};
}

inline Outputs ref_log_returns(const Bars& b) {
  Series o = nans(b.size());
  for (size_t t = 1; t < b.size(); ++t) o[t] = fin(std::log(b.close[t] / b.close[t - 1]));
  return {o};
}

inline Outputs ref_volatility(const Bars& b, size_t n, int ddof, double factor) {
  const Series r = ref_log_returns(b)[0];
  Series o = nans(b.size());
  for (size_t t = n; t < b.size(); ++t) o[t] = std::sqrt(var_of(r, t, n, ddof)) * factor;
  return {o};
}

inline Outputs ref_zscore(const Bars& b, size_t n, int ddof) {
  const auto& x = b.close;
  Series o = nans(x.size());
  for (size_t t = n - 1; t < x.size(); ++t) {
    const double sd = std::sqrt(var_of(x, t, n, ddof));
    o[t] = sd == 0 ? kNan : static_cast<double>((x[t] - wide_mean(x, t, n)) / sd);
  }
  return {o};
}

inline Outputs ref_vwap(const Bars& b, size_t n) {
  const Series tp = typical(b);
  Series o = nans(b.size());
  for (size_t t = n - 1; t < b.size(); ++t) {
    double pv = 0, v = 0;
    for (size_t j = t + 1 - n; j <= t; ++j) {
      pv += tp[j] * b.volume[j];
      v += b.volume[j];
    }
    o[t] = v == 0 ? kNan : pv / v;
  }
  return {o};
}

inline Outputs ref_volume_ratio(const Bars& b, size_t n) {
  Series o = nans(b.size());
  for (size_t t = n - 1; t < b.size(); ++t) {
    const double m = mean_of(b.volume, t, n);
    o[t] = m == 0 ? kNan : b.volume[t] / m;
  }
  return {o};
}

}  // namespace af::features::test
