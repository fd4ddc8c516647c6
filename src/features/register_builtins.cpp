#include "features/register_builtins.hpp"

namespace af::features {

void register_builtins(FeatureRegistry& /*registry*/) {}

}  // namespace af::features
