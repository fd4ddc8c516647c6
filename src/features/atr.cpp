// features.atr: Wilder's average true range (TA-Lib ATR).

#include "features/atr_operator.hpp"
#include "features/builtins.hpp"

namespace af::features {

registry::Descriptor atr_descriptor() { return atr_like(false); }

Result<std::unique_ptr<Feature>> make_atr(const FeatureContext& ctx) {
  return make_feature<Atr>(ctx.params.get_int("window"), false);
}

}  // namespace af::features
