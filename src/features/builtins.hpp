#pragma once
// The built-in features: one descriptor and one factory per feature, each
// defined in its own file (features/<name>.cpp) and listed explicitly in
// register_builtins.cpp.

#include <memory>

#include "registry/descriptor.hpp"
#include "runtime/feature.hpp"

namespace af::features {

#define AF_FEATURE_DECLARE(x)          \
  registry::Descriptor x##_descriptor(); \
  Result<std::unique_ptr<Feature>> make_##x(const FeatureContext& ctx);

AF_FEATURE_DECLARE(momentum)
AF_FEATURE_DECLARE(rsi)
AF_FEATURE_DECLARE(ma_rocp)
AF_FEATURE_DECLARE(levels)
AF_FEATURE_DECLARE(sma)
AF_FEATURE_DECLARE(ema)
AF_FEATURE_DECLARE(wma)
AF_FEATURE_DECLARE(dema)
AF_FEATURE_DECLARE(tema)
AF_FEATURE_DECLARE(macd)
AF_FEATURE_DECLARE(bollinger)
AF_FEATURE_DECLARE(atr)
AF_FEATURE_DECLARE(natr)
AF_FEATURE_DECLARE(stochastic)
AF_FEATURE_DECLARE(williams_r)
AF_FEATURE_DECLARE(cci)
AF_FEATURE_DECLARE(adx)
AF_FEATURE_DECLARE(obv)
AF_FEATURE_DECLARE(mfi)
AF_FEATURE_DECLARE(roc)
AF_FEATURE_DECLARE(returns)
AF_FEATURE_DECLARE(log_returns)
AF_FEATURE_DECLARE(volatility)
AF_FEATURE_DECLARE(zscore)
AF_FEATURE_DECLARE(vwap)
AF_FEATURE_DECLARE(volume_ratio)

#undef AF_FEATURE_DECLARE

}  // namespace af::features
