// features.wma: linearly weighted moving average (TA-Lib WMA).

#include <cmath>

#include "features/builtins.hpp"
#include "features/compensated_sum.hpp"
#include "features/feature_helpers.hpp"
#include "features/ring_window.hpp"

namespace af::features {
namespace {

// Wma: one (step, symbol). The weighted sum moves in O(1) (each value's weight
// drops by one, the new value enters with weight n); both sums are recomputed
// exactly once per window so that nothing drifts. Compute thread.
class Wma final : public Feature {
 public:
  explicit Wma(int64_t window) : n_(window), ring_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double x = in[0];
    if (ring_.full()) {
      const double old = ring_.oldest();
      weighted_.add(-plain_.value());  // every weight drops by one, the oldest's to 0
      plain_.add(-old);
      if (!std::isfinite(old) && --nonfinite_ == 0) since_recompute_ = n_;  // NaN gone: recompute now
    }
    if (!std::isfinite(x)) ++nonfinite_;
    ring_.push(x);
    plain_.add(x);
    weighted_.add(static_cast<double>(ring_.size()) * x);
    if (!ring_.full()) return;
    if (nonfinite_ > 0) {
      out[0] = kNaN;
      return;
    }
    if (++since_recompute_ >= n_) recompute();
    const double n = static_cast<double>(n_);
    out[0] = weighted_.value() / (n * (n + 1.0) / 2.0);
  }
  void save(StateWriter& w) const override {
    ring_.save(w);
    plain_.save(w);
    weighted_.save(w);
    w.put(since_recompute_);
    w.put(nonfinite_);
  }
  bool load(StateReader& r) override {
    if (!ring_.load(r) || !plain_.load(r) || !weighted_.load(r)) return false;
    r.get(since_recompute_);
    r.get(nonfinite_);
    return !r.failed();
  }

 private:
  void recompute() {
    since_recompute_ = 0;
    plain_.reset();
    weighted_.reset();
    double weight = 0.0;
    ring_.for_each([&](double v) {
      weight += 1.0;
      plain_.add(v);
      weighted_.add(weight * v);
    });
  }

  int64_t n_;
  RingWindow ring_;
  NeumaierSum plain_;     // sum of the window
  NeumaierSum weighted_;  // sum of weight * value, newest weight = size
  int64_t since_recompute_ = 0;
  int64_t nonfinite_ = 0;  // non-finite values in the window: output NaN, sums rebuilt after
};

}  // namespace

registry::Descriptor wma_descriptor() {
  auto d = feature_descriptor(
      "features.wma", "Linearly weighted moving average (TA-Lib WMA)",
      "`wma = sum_{i=1..window} i * x[t-window+i] / (window*(window+1)/2)`: the newest value has weight "
      "`window`, the oldest weight 1.",
      {}, {"WMA"}, 1);
  d.params = {int_param("window", 20, 1, "bars averaged")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  return d;
}

Result<std::unique_ptr<Feature>> make_wma(const FeatureContext& ctx) {
  return make_feature<Wma>(ctx.params.get_int("window"));
}

}  // namespace af::features
