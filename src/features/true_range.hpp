#pragma once
// TrueRange: Wilder's true range of a bar given the previous close, as TA-Lib's
// TRANGE: max(high - low, |high - prev_close|, |low - prev_close|).

#include <cmath>

namespace af::features {

inline double true_range(double high, double low, double prev_close) {
  double tr = high - low;
  const double a = std::fabs(high - prev_close);
  if (a > tr) tr = a;
  const double b = std::fabs(low - prev_close);
  if (b > tr) tr = b;
  return tr;
}

}  // namespace af::features
