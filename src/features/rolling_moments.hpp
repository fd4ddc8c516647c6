#pragma once
// RollingMoments: mean and variance of the last `window` values in O(1)
// amortised. Sums are kept of (x - shift) and (x - shift)^2, with the shift
// moved to the newest value and the sums recomputed exactly once per window
// (O(1) amortised): this avoids both the catastrophic cancellation of raw
// sum-of-squares at 1e8 prices and any long-run drift. A window whose values
// are all equal has variance exactly 0 (tracked by the run length), so that
// z-scores and %b of flat stretches are NaN, not noise.
// Owned by one feature operator; compute thread only.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "features/compensated_sum.hpp"
#include "features/ring_window.hpp"

namespace af::features {

class RollingMoments {
 public:
  explicit RollingMoments(size_t window) : ring_(window) {}

  void push(double x) {
    if (ring_.full()) {
      const double d = ring_.oldest() - shift_;
      s1_.remove(d);
      s2_.remove(d * d);
    }
    run_ = (ring_.size() > 0 && ring_.back(0) == x) ? run_ + 1 : 1;
    ring_.push(x);
    const double d = x - shift_;
    s1_.add(d);
    s2_.add(d * d);
    if (++since_recompute_ >= static_cast<int64_t>(ring_.capacity())) recompute();
  }

  bool full() const { return ring_.full(); }
  size_t size() const { return ring_.size(); }

  double mean() const {
    if (run_ >= static_cast<int64_t>(ring_.size())) return ring_.back(0);
    return shift_ + s1_.value() / static_cast<double>(ring_.size());
  }

  // ddof 0: population variance (TA-Lib), ddof 1: sample variance.
  double variance(int ddof) const {
    const auto n = static_cast<double>(ring_.size());
    if (n - ddof <= 0) return std::numeric_limits<double>::quiet_NaN();
    if (run_ >= static_cast<int64_t>(ring_.size())) return 0.0;
    const double s1 = s1_.value();
    const double v = (s2_.value() - s1 * (s1 / n)) / (n - ddof);
    return v > 0.0 ? v : 0.0;
  }

  void save(StateWriter& w) const {
    ring_.save(w);
    s1_.save(w);
    s2_.save(w);
    w.put(shift_);
    w.put(run_);
    w.put(since_recompute_);
  }
  bool load(StateReader& r) {
    if (!ring_.load(r) || !s1_.load(r) || !s2_.load(r)) return false;
    r.get(shift_);
    r.get(run_);
    r.get(since_recompute_);
    return !r.failed();
  }

 private:
  void recompute() {
    since_recompute_ = 0;
    const double newest = ring_.back(0);
    if (!std::isfinite(newest)) return;  // keep the old shift until a finite value comes
    shift_ = newest;
    s1_.reset();
    s2_.reset();
    ring_.for_each([&](double v) {
      const double d = v - shift_;
      s1_.add(d);
      s2_.add(d * d);
    });
  }

  RingWindow ring_;
  CompensatedSum s1_;  // sum of (x - shift_)
  CompensatedSum s2_;  // sum of (x - shift_)^2
  double shift_ = 0.0;
  int64_t run_ = 0;              // how many newest values are equal
  int64_t since_recompute_ = 0;  // pushes since the last exact recompute
};

}  // namespace af::features
