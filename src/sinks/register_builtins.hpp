#pragma once
#include "runtime/sink.hpp"

namespace af::sinks {

// Adds every built-in plugin of this module, explicitly listed in register_builtins.cpp.
void register_builtins(SinkRegistry& registry);

}  // namespace af::sinks
