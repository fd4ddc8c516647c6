#pragma once
// CompensatedSum: a running sum with Neumaier compensation, so that adding and
// later subtracting the same values a million times leaves no visible drift.
// It also counts the non-finite and the nonzero terms currently in the sum:
// a NaN in a rolling window poisons the sum only while it is in the window, and
// a window of zeros sums to exactly 0 (a volume sum over a quiet stretch).
// Owned by one feature operator; compute thread only.

#include <cmath>
#include <cstdint>
#include <limits>

#include "common/state_archive.hpp"

namespace af::features {

// NeumaierSum: a plain compensated running sum (any terms, added or subtracted).
class NeumaierSum {
 public:
  void add(double v) {
    const double t = sum_ + v;
    if (std::fabs(sum_) >= std::fabs(v))
      comp_ += (sum_ - t) + v;
    else
      comp_ += (v - t) + sum_;
    sum_ = t;
  }
  double value() const { return sum_ + comp_; }
  void reset() { sum_ = comp_ = 0.0; }

  void save(StateWriter& w) const {
    w.put(sum_);
    w.put(comp_);
  }
  bool load(StateReader& r) {
    r.get(sum_);
    r.get(comp_);
    return !r.failed();
  }

 private:
  double sum_ = 0.0;
  double comp_ = 0.0;
};

// Terms must be removed exactly as they were added (a rolling window).
class CompensatedSum {
 public:
  void add(double x) { apply(x, +1); }
  void remove(double x) { apply(x, -1); }

  // NaN while a non-finite term is inside, exactly 0 when every term is 0.
  double value() const {
    if (nonfinite_ > 0) return std::numeric_limits<double>::quiet_NaN();
    if (nonzero_ == 0) return 0.0;
    return sum_.value();
  }

  void reset() { *this = CompensatedSum{}; }

  void save(StateWriter& w) const {
    sum_.save(w);
    w.put(nonfinite_);
    w.put(nonzero_);
  }
  bool load(StateReader& r) {
    sum_.load(r);
    r.get(nonfinite_);
    r.get(nonzero_);
    return !r.failed();
  }

 private:
  void apply(double x, int sign) {
    if (!std::isfinite(x)) {
      nonfinite_ += sign;
      return;
    }
    if (x == 0.0) return;
    nonzero_ += sign;
    if (nonzero_ == 0) {  // every remaining term is 0: restart exact
      sum_.reset();
      return;
    }
    sum_.add(sign > 0 ? x : -x);
  }

  NeumaierSum sum_;
  int64_t nonfinite_ = 0;
  int64_t nonzero_ = 0;
};

}  // namespace af::features
