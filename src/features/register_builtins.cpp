#include "features/register_builtins.hpp"

#include "features/builtins.hpp"

namespace af::features {

void register_builtins(FeatureRegistry& registry) {
  // Seed features (the bilstm example's).
  registry.add(momentum_descriptor(), make_momentum);
  registry.add(rsi_descriptor(), make_rsi);
  registry.add(ma_rocp_descriptor(), make_ma_rocp);
  registry.add(levels_descriptor(), make_levels);
}

}  // namespace af::features
