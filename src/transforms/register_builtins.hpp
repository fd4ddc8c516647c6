#pragma once
#include "runtime/transform.hpp"

namespace af::transforms {

// Adds every built-in plugin of this module, explicitly listed in register_builtins.cpp.
void register_builtins(TransformRegistry& registry);

}  // namespace af::transforms
