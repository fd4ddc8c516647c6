#include <iostream>

#include <nlohmann/json.hpp>

#include "app/builtin_plugins.hpp"
#include "app/commands.hpp"
#include "app/plugin_docs.hpp"
#include "sinks/plugin_sink.hpp"

namespace af::app {

int run_plugins(const PluginsArgs& args) {
  PluginSet plugins;
  registry::Catalog catalog;
  if (args.plugin_paths.empty()) {
    register_all_builtins(plugins);
    catalog = plugins.catalog();
  } else {
    // Only the named plugins: loading them is what the user asked for here.
    for (const auto& path : args.plugin_paths) {
      if (path.find('/') == std::string::npos) {
        std::cerr << "error: --plugin " << path << ": a plugin path must contain a '/' (write ./" << path << ")\n";
        return kExitInvalid;
      }
      if (auto st = sinks::load_and_register_sink_plugin(plugins.sinks, path); !st) {
        std::cerr << "error: --plugin " << path << ": " << st.error().message << '\n';
        return kExitFailure;
      }
    }
    catalog.add_all(plugins.sinks.descriptors());
  }
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
