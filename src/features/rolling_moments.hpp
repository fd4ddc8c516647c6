#pragma once
// RollingMoments: mean and variance of the last `window` values in O(1)
// amortised. Sums of (x - shift) and (x - shift)^2 are kept in long double
// (64-bit mantissa on x86), with the shift moved to the window's mean and the
// sums recomputed exactly once per window (O(1) amortised). This avoids the
// catastrophic cancellation of raw sums of squares at 1e8 prices, keeps a
// nearly flat window (a jump after a flat stretch) accurate, and bounds drift.
// A window whose values are all equal has variance exactly 0 (tracked by the
// run length), so z-scores and %b of flat stretches are NaN, not noise.
// Owned by one feature operator; compute thread only.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "features/ring_window.hpp"

namespace af::features {

class RollingMoments {
 public:
  explicit RollingMoments(size_t window) : ring_(window) {}

  void push(double x) {
    if (ring_.full()) apply(ring_.oldest(), -1);
    run_ = (ring_.size() > 0 && ring_.back(0) == x) ? run_ + 1 : 1;
    ring_.push(x);
    apply(x, +1);
    if (++since_recompute_ >= static_cast<int64_t>(ring_.capacity())) recompute();
  }

  bool full() const { return ring_.full(); }
  size_t size() const { return ring_.size(); }

  double mean() const {
    if (nonfinite_ > 0) return std::numeric_limits<double>::quiet_NaN();
    if (run_ >= static_cast<int64_t>(ring_.size())) return ring_.back(0);
    return static_cast<double>(shift_ + s1_ / static_cast<long double>(ring_.size()));
  }

  // x - mean without rounding the mean to a double first.
  double deviation(double x) const {
    if (nonfinite_ > 0) return std::numeric_limits<double>::quiet_NaN();
    if (run_ >= static_cast<int64_t>(ring_.size())) return x - ring_.back(0);
    return static_cast<double>((x - shift_) - s1_ / static_cast<long double>(ring_.size()));
  }

  // ddof 0: population variance (TA-Lib), ddof 1: sample variance.
  double variance(int ddof) const {
    const auto n = static_cast<long double>(ring_.size());
    if (nonfinite_ > 0 || n - ddof <= 0) return std::numeric_limits<double>::quiet_NaN();
    if (run_ >= static_cast<int64_t>(ring_.size())) return 0.0;
    const long double v = (s2_ - s1_ * (s1_ / n)) / (n - ddof);
    return v > 0 ? static_cast<double>(v) : 0.0;
  }

  void save(StateWriter& w) const {
    ring_.save(w);
    put_wide(w, s1_);
    put_wide(w, s2_);
    put_wide(w, shift_);
    w.put(nonfinite_);
    w.put(run_);
    w.put(since_recompute_);
  }
  bool load(StateReader& r) {
    if (!ring_.load(r)) return false;
    s1_ = get_wide(r);
    s2_ = get_wide(r);
    shift_ = get_wide(r);
    r.get(nonfinite_);
    r.get(run_);
    r.get(since_recompute_);
    return !r.failed();
  }

 private:
  // A long double as two doubles (hi + lo holds its 64-bit mantissa exactly):
  // snapshot bytes stay free of the type's padding and portable in size.
  static void put_wide(StateWriter& w, long double v) {
    const auto hi = static_cast<double>(v);
    w.put(hi);
    w.put(static_cast<double>(v - hi));
  }
  static long double get_wide(StateReader& r) {
    const auto hi = r.get<double>();
    const auto lo = r.get<double>();
    return static_cast<long double>(hi) + lo;
  }

  void apply(double x, int sign) {
    if (!std::isfinite(x)) {
      nonfinite_ += sign;
      return;
    }
    const long double d = x - shift_;
    s1_ += sign * d;
    s2_ += sign * d * d;
  }

  void recompute() {
    since_recompute_ = 0;
    if (nonfinite_ > 0) return;  // keep the shift until the NaN has left the window
    long double mean = 0;
    ring_.for_each([&](double v) { mean += v; });
    shift_ = mean / static_cast<long double>(ring_.size());
    s1_ = s2_ = 0;
    ring_.for_each([&](double v) { apply(v, +1); });
  }

  RingWindow ring_;
  long double s1_ = 0;     // sum of (x - shift_)
  long double s2_ = 0;     // sum of (x - shift_)^2
  long double shift_ = 0;
  int64_t nonfinite_ = 0;        // non-finite values in the window
  int64_t run_ = 0;              // how many newest values are equal
  int64_t since_recompute_ = 0;  // pushes since the last exact recompute
};

}  // namespace af::features
