// features.stochastic: slow stochastic %K/%D (TA-Lib STOCH with SMA smoothing).

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/rolling_extreme.hpp"
#include "features/window_sum.hpp"

namespace af::features {
namespace {

// Stochastic: one (step, symbol); rolling high/low deques and two SMA windows.
// Compute thread.
class Stochastic final : public Feature {
 public:
  Stochastic(int64_t fastk, int64_t slowk, int64_t slowd)
      : fastk_(fastk), hi_(static_cast<size_t>(fastk)), lo_(static_cast<size_t>(fastk)),
        slowk_(static_cast<size_t>(slowk)), slowd_(static_cast<size_t>(slowd)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double hi = hi_.push(in[0]);
    const double lo = lo_.push(in[1]);
    if (++seen_ < fastk_) return;
    const double diff = (hi - lo) / 100.0;  // TA-Lib's order of operations
    slowk_.push(diff != 0.0 ? (in[2] - lo) / diff : 0.0);
    if (!slowk_.full()) return;
    const double k = slowk_.mean();
    slowd_.push(k);
    if (!slowd_.full()) return;
    out[0] = k;
    if (out.size() > 1) out[1] = slowd_.mean();
  }
  void save(StateWriter& w) const override {
    w.put(seen_);
    hi_.save(w);
    lo_.save(w);
    slowk_.save(w);
    slowd_.save(w);
  }
  bool load(StateReader& r) override {
    r.get(seen_);
    return hi_.load(r) && lo_.load(r) && slowk_.load(r) && slowd_.load(r);
  }

 private:
  int64_t fastk_;
  int64_t seen_ = 0;
  RollingMax hi_;
  RollingMin lo_;
  WindowSum slowk_, slowd_;
};

}  // namespace

registry::Descriptor stochastic_descriptor() {
  auto d = feature_descriptor(
      "features.stochastic", "Slow stochastic oscillator (TA-Lib STOCH, SMA smoothing)",
      "`fast_k = 100 * (close - min(low, fastk)) / (max(high, fastk) - min(low, fastk))`, 0 when the range "
      "is 0 (TA-Lib); `%K = SMA(fast_k, slowk)`, `%D = SMA(%K, slowd)`. Both outputs start at row "
      "`fastk + slowk + slowd - 3`, as TA-Lib.",
      {"high", "low", "close"}, {"slow %K", "slow %D"}, 1);
  d.params = {int_param("fastk", 5, 1, "bars of the high/low range"),
              int_param("slowk", 3, 1, "SMA period smoothing fast %K into %K"),
              int_param("slowd", 3, 1, "SMA period of %K giving %D")};
  d.warmup_rows = [](const registry::Params& p) {
    return p.get_int("fastk") + p.get_int("slowk") + p.get_int("slowd") - 2;
  };
  d.warmup_doc = "fastk + slowk + slowd - 2";
  return d;
}

Result<std::unique_ptr<Feature>> make_stochastic(const FeatureContext& ctx) {
  return make_feature<Stochastic>(ctx.params.get_int("fastk"), ctx.params.get_int("slowk"),
                                  ctx.params.get_int("slowd"));
}

}  // namespace af::features
