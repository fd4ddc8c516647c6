// features.returns: simple one-bar returns.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/one_bar_change.hpp"

namespace af::features {
namespace {

struct SimpleReturn {
  double operator()(double x, double prev) const { return (x - prev) / prev; }
};

}  // namespace

registry::Descriptor returns_descriptor() {
  auto d = feature_descriptor("features.returns", "Simple one-bar return",
                              "`returns = x / x[t-1] - 1`, computed as `(x - x[t-1]) / x[t-1]`; NaN when "
                              "`x[t-1]` is 0.",
                              {}, {"simple return"}, 1);
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 2; };
  d.warmup_doc = std::string("2");  // not a literal: g++ 12 -Wrestrict false positive
  return d;
}

Result<std::unique_ptr<Feature>> make_returns(const FeatureContext&) {
  return make_feature<OneBarChange<SimpleReturn>>();
}

}  // namespace af::features
