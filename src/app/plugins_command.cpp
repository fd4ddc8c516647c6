#include <iostream>

#include <nlohmann/json.hpp>

#include "app/builtin_plugins.hpp"
#include "app/commands.hpp"
#include "app/plugin_docs.hpp"

namespace af::app {

int run_plugins(const PluginsArgs& args) {
  PluginSet plugins;
  register_all_builtins(plugins);
  const auto catalog = plugins.catalog();
  if (args.json) {
    std::cout << plugins_to_json(catalog).dump(2) << '\n';
  } else if (args.markdown) {
    std::cout << plugins_to_markdown(catalog);
  } else {
    std::cout << plugins_to_text(catalog);
  }
  return kExitOk;
}

}  // namespace af::app
