#pragma once
// OneBarChange: a feature of a value and the one before it (simple and log
// returns). `Change` maps (x, x[t-1]) to the output; the first row has no previous
// value and stays NaN; a non-finite result is NaN (DESIGN §2).

#include <span>

#include "features/feature_helpers.hpp"

namespace af::features {

// One (step, symbol); the previous value. Compute thread.
template <class Change>
class OneBarChange final : public Feature {
 public:
  void update(std::span<const double> in, std::span<double> out) override {
    if (has_prev_) out[0] = finite_or_nan(Change{}(in[0], prev_));
    has_prev_ = true;
    prev_ = in[0];
  }
  void save(StateWriter& w) const override {
    w.put(has_prev_);
    w.put(prev_);
  }
  bool load(StateReader& r) override {
    r.get(has_prev_);
    r.get(prev_);
    return !r.failed();
  }

 private:
  bool has_prev_ = false;
  double prev_ = 0.0;
};

}  // namespace af::features
