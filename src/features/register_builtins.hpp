#pragma once
#include "runtime/feature.hpp"

namespace af::features {

// Adds every built-in plugin of this module, explicitly listed in register_builtins.cpp.
void register_builtins(FeatureRegistry& registry);

}  // namespace af::features
