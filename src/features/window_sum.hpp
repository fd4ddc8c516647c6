#pragma once
// WindowSum: the sum (and mean) of the last `window` values: a RingWindow plus a
// CompensatedSum, so an SMA costs O(1) per value and does not drift over a
// million bars. Owned by one feature operator; compute thread only.

#include <cstddef>

#include "features/compensated_sum.hpp"
#include "features/ring_window.hpp"

namespace af::features {

class WindowSum {
 public:
  explicit WindowSum(size_t window) : ring_(window) {}

  void push(double x) {
    if (ring_.full()) sum_.remove(ring_.oldest());
    ring_.push(x);
    sum_.add(x);
  }

  bool full() const { return ring_.full(); }
  double sum() const { return sum_.value(); }
  double mean() const { return sum_.value() / static_cast<double>(ring_.size()); }
  const RingWindow& ring() const { return ring_; }

  void save(StateWriter& w) const {
    ring_.save(w);
    sum_.save(w);
  }
  bool load(StateReader& r) { return ring_.load(r) && sum_.load(r); }

 private:
  RingWindow ring_;
  CompensatedSum sum_;
};

}  // namespace af::features
