#include "app/builtin_plugins.hpp"

#include "binance/register_builtins.hpp"
#include "clickhouse/register_builtins.hpp"
#include "features/register_builtins.hpp"
#include "models/register_builtins.hpp"
#include "nats/register_builtins.hpp"
#include "python/register_python_sink.hpp"
#include "sinks/register_builtins.hpp"
#include "transforms/register_builtins.hpp"

namespace af::app {

void register_all_builtins(PluginSet& plugins) {
  binance::register_builtins(plugins.data);
  clickhouse::register_builtins(plugins.data, plugins.sinks);
  transforms::register_builtins(plugins.transforms);
  features::register_builtins(plugins.features);
  models::register_builtins(plugins.models);
  sinks::register_builtins(plugins.sinks);
  python::register_python_sink(plugins.sinks);
  nats::register_builtins(plugins.sinks);
}

}  // namespace af::app
