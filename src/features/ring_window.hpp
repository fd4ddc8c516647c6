#pragma once
// RingWindow: the last `capacity` values of a series, preallocated once. The
// building block of every windowed feature (SMA, momentum, rolling moments).
// Owned by one feature operator; compute thread only.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/state_archive.hpp"

namespace af::features {

class RingWindow {
 public:
  explicit RingWindow(size_t capacity) : buf_(capacity, 0.0) { assert(capacity > 0); }

  // Appends x. Returns the value that fell out of the window, NaN while the
  // window was not yet full (callers test full() before pushing when it matters).
  double push(double x) {
    const double old = buf_[head_];
    buf_[head_] = x;
    head_ = head_ + 1 == buf_.size() ? 0 : head_ + 1;
    if (size_ < buf_.size()) {
      ++size_;
      return std::numeric_limits<double>::quiet_NaN();
    }
    return old;
  }

  // lag 0 is the newest value; lag < size().
  double back(size_t lag) const {
    assert(lag < size_);
    const size_t cap = buf_.size();
    size_t i = head_ + cap - 1 - lag;  // < 2 * cap: one compare instead of a division
    if (i >= cap) i -= cap;
    return buf_[i];
  }
  double oldest() const { return back(size_ - 1); }

  size_t size() const { return size_; }
  size_t capacity() const { return buf_.size(); }
  bool full() const { return size_ == buf_.size(); }

  // Calls f(value) for every stored value, oldest first.
  template <class F>
  void for_each(F&& f) const {
    for (size_t i = size_; i > 0; --i) f(back(i - 1));
  }

  void save(StateWriter& w) const {
    w.put<uint64_t>(head_);
    w.put<uint64_t>(size_);
    for (double v : buf_) w.put(v);
  }
  bool load(StateReader& r) {
    const auto head = r.get<uint64_t>();
    const auto size = r.get<uint64_t>();
    for (double& v : buf_) v = r.get<double>();
    if (r.failed() || head >= buf_.size() || size > buf_.size()) return false;
    head_ = head;
    size_ = size;
    return true;
  }

 private:
  std::vector<double> buf_;
  size_t head_ = 0;  // where the next value goes
  size_t size_ = 0;
};

}  // namespace af::features
