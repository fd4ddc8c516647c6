#include "app/builtin_plugins.hpp"

#include "features/register_builtins.hpp"
#include "models/register_builtins.hpp"
#include "sinks/register_builtins.hpp"
#include "sources/register_builtins.hpp"
#include "transforms/register_builtins.hpp"

namespace af::app {

void register_all_builtins(PluginSet& plugins) {
  sources::register_builtins(plugins.data);
  transforms::register_builtins(plugins.transforms);
  features::register_builtins(plugins.features);
  models::register_builtins(plugins.models);
  sinks::register_builtins(plugins.sinks);
}

}  // namespace af::app
