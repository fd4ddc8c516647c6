#pragma once
// The built-in plugins of every kind, wired together explicitly (no
// self-registering statics: a static library can silently drop them).

#include "runtime/plugin_set.hpp"

namespace af::app {

// Registers every module's built-ins into a fresh PluginSet.
void register_all_builtins(PluginSet& plugins);

}  // namespace af::app
