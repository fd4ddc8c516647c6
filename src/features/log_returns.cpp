// features.log_returns: one-bar log returns.

#include <cmath>

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"

namespace af::features {
namespace {

// LogReturns: one (step, symbol); the previous value. Compute thread.
class LogReturns final : public Feature {
 public:
  void update(std::span<const double> in, std::span<double> out) override {
    if (has_prev_) out[0] = finite_or_nan(std::log(in[0] / prev_));
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

}  // namespace

registry::Descriptor log_returns_descriptor() {
  auto d = feature_descriptor("features.log_returns", "One-bar log return",
                              "`log_returns = ln(x / x[t-1])`; NaN when not finite (a zero or negative ratio).",
                              {}, {"log return"}, 1);
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 2; };
  d.warmup_doc = std::string("2");  // not a literal: g++ 12 -Wrestrict false positive
  return d;
}

Result<std::unique_ptr<Feature>> make_log_returns(const FeatureContext&) { return make_feature<LogReturns>(); }

}  // namespace af::features
