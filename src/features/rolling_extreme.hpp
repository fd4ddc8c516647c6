#pragma once
// RollingExtreme<kMax>: max (or min) of the last `window` values with a
// monotonic deque kept in a preallocated ring: O(1) amortised per push.
// Owned by one feature operator; compute thread only. Inputs are finite.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/state_archive.hpp"

namespace af::features {

template <bool kMax>
class RollingExtreme {
 public:
  explicit RollingExtreme(size_t window) : window_(window), seq_of_(window), val_(window) { assert(window > 0); }

  // Adds x as the newest value and returns the extreme of the window.
  double push(double x) {
    const size_t cap = window_;
    if (count_ > 0 && seq_of_[head_] + static_cast<int64_t>(window_) <= seq_) {  // front left the window
      head_ = head_ + 1 == cap ? 0 : head_ + 1;
      --count_;
    }
    while (count_ > 0) {
      const size_t back = wrap(head_ + count_ - 1);
      if (kMax ? val_[back] <= x : val_[back] >= x)
        --count_;
      else
        break;
    }
    const size_t slot = wrap(head_ + count_);
    seq_of_[slot] = seq_;
    val_[slot] = x;
    ++count_;
    ++seq_;
    return val_[head_];
  }

  double value() const {
    assert(count_ > 0);
    return val_[head_];
  }

  void save(StateWriter& w) const {
    w.put<uint64_t>(head_);
    w.put<uint64_t>(count_);
    w.put(seq_);
    for (size_t i = 0; i < window_; ++i) {
      w.put(seq_of_[i]);
      w.put(val_[i]);
    }
  }
  bool load(StateReader& r) {
    const auto head = r.get<uint64_t>();
    const auto count = r.get<uint64_t>();
    r.get(seq_);
    for (size_t i = 0; i < window_; ++i) {
      r.get(seq_of_[i]);
      r.get(val_[i]);
    }
    if (r.failed() || head >= window_ || count > window_) return false;
    head_ = head;
    count_ = count;
    return true;
  }

 private:
  size_t wrap(size_t i) const { return i >= window_ ? i - window_ : i; }  // i < 2 * window_

  size_t window_;
  std::vector<int64_t> seq_of_;  // sequence number of each deque entry
  std::vector<double> val_;
  size_t head_ = 0;   // deque front slot
  size_t count_ = 0;  // deque length
  int64_t seq_ = 0;   // values pushed so far
};

using RollingMax = RollingExtreme<true>;
using RollingMin = RollingExtreme<false>;

}  // namespace af::features
