#pragma once
#include "runtime/model.hpp"

namespace af::models {

// Adds every built-in plugin of this module, explicitly listed in register_builtins.cpp.
void register_builtins(ModelRegistry& registry);

}  // namespace af::models
