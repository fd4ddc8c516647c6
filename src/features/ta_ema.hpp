#pragma once
// TaEma: TA-Lib's EMA: the first output, after `period` values, is their simple
// mean; then ema = (x - ema) * k + ema with k = 2 / (period + 1), written in
// TA-Lib's order of operations so the values match it bit for bit.
// Owned by one feature operator; compute thread only.

#include <cstdint>
#include <limits>

#include "common/state_archive.hpp"

namespace af::features {

class TaEma {
 public:
  explicit TaEma(int64_t period) : period_(period), k_(2.0 / (static_cast<double>(period) + 1.0)) {}

  // Returns the EMA after x, NaN until `period` values were seen.
  double update(double x) {
    if (count_ < period_) {
      seed_sum_ += x;
      if (++count_ < period_) return std::numeric_limits<double>::quiet_NaN();
      value_ = seed_sum_ / static_cast<double>(period_);
      return value_;
    }
    value_ = ((x - value_) * k_) + value_;
    return value_;
  }

  // Starts the EMA from a given seed (MACD's fast line is seeded later than a standalone EMA).
  void seed(double value) {
    count_ = period_;
    value_ = value;
  }

  bool ready() const { return count_ >= period_; }
  double value() const { return value_; }

  void save(StateWriter& w) const {
    w.put(count_);
    w.put(seed_sum_);
    w.put(value_);
  }
  bool load(StateReader& r) {
    r.get(count_);
    r.get(seed_sum_);
    r.get(value_);
    return !r.failed();
  }

 private:
  int64_t period_;
  double k_;
  int64_t count_ = 0;
  double seed_sum_ = 0.0;
  double value_ = 0.0;
};

// WilderAverage: Wilder's smoothing as TA-Lib's RSI and ATR do it: the first
// value is the mean of the first `period` inputs, then avg = (avg*(n-1) + x)/n.
class WilderAverage {
 public:
  explicit WilderAverage(int64_t period) : period_(period) {}

  double update(double x) {
    const auto n = static_cast<double>(period_);
    if (count_ < period_) {
      value_ += x;
      if (++count_ < period_) return std::numeric_limits<double>::quiet_NaN();
      value_ /= n;
      return value_;
    }
    value_ *= n - 1.0;
    value_ += x;
    value_ /= n;
    return value_;
  }

  bool ready() const { return count_ >= period_; }
  double value() const { return value_; }

  void save(StateWriter& w) const {
    w.put(count_);
    w.put(value_);
  }
  bool load(StateReader& r) {
    r.get(count_);
    r.get(value_);
    return !r.failed();
  }

 private:
  int64_t period_;
  int64_t count_ = 0;
  double value_ = 0.0;  // the running sum until ready, then the average
};

}  // namespace af::features
