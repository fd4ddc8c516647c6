// features.log_returns: one-bar log returns.

#include <cmath>

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/one_bar_change.hpp"

namespace af::features {
namespace {

struct LogReturn {
  double operator()(double x, double prev) const { return std::log(x / prev); }
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

Result<std::unique_ptr<Feature>> make_log_returns(const FeatureContext&) {
  return make_feature<OneBarChange<LogReturn>>();
}

}  // namespace af::features
