#pragma once
#include "runtime/data_source.hpp"

namespace af::sources {

// Adds every built-in plugin of this module, explicitly listed in register_builtins.cpp.
void register_builtins(DataSourceRegistry& registry);

}  // namespace af::sources
