// features.natr: average true range in percent of close (TA-Lib NATR).

#include "features/atr_operator.hpp"
#include "features/builtins.hpp"

namespace af::features {

registry::Descriptor natr_descriptor() { return atr_like(true); }

Result<std::unique_ptr<Feature>> make_natr(const FeatureContext& ctx) {
  return make_feature<Atr>(ctx.params.get_int("window"), true);
}

}  // namespace af::features
