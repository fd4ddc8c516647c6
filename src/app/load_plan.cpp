#include <cstdlib>
#include <iostream>

#include <yaml-cpp/yaml.h>

#include "app/commands.hpp"
#include "dag/compiler.hpp"
#include "dsl/loader.hpp"
#include "sinks/plugin_sink.hpp"

namespace af::app {
namespace {

// Sink plugins must be registered before the pipeline is validated (their
// params are checked like a built-in's), so `using.plugins` is read ahead of the
// DSL, together with ALPHA_FORGE_SINK_PLUGINS (paths separated by ':').
std::vector<std::string> plugin_paths(const std::string& file) {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("ALPHA_FORGE_SINK_PLUGINS")) {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t end = std::min(list.find(':', start), list.size());
      if (end > start) paths.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  try {
    const YAML::Node root = YAML::LoadFile(file);
    const YAML::Node listed = root["using"] ? root["using"]["plugins"] : YAML::Node();
    if (listed && listed.IsSequence())
      for (const auto& p : listed)
        if (p.IsScalar()) paths.push_back(p.as<std::string>());
  } catch (const std::exception&) {
    // An unreadable or malformed file is reported, with its position, by the DSL.
  }
  return paths;
}

}  // namespace

std::optional<dag::Plan> load_plan(const std::string& file, PluginSet& plugins, bool warnings_in_plan) {
  for (const auto& path : plugin_paths(file)) {
    if (auto st = sinks::load_and_register_sink_plugin(plugins.sinks, path); !st) {
      std::cerr << file << ": error: using.plugins: " << st.error().message << '\n';
      return std::nullopt;
    }
  }
  const registry::Catalog catalog = plugins.catalog();
  Diagnostics diags;
  std::optional<dag::Plan> plan;
  if (auto pipeline = dsl::load_pipeline_file(file, catalog, diags)) {
    plan = dag::compile(*pipeline, catalog, diags);
  }
  diags.sort();
  const bool quiet_warnings = warnings_in_plan && !diags.has_errors();
  for (const auto& d : diags.items())
    if (!(quiet_warnings && d.severity == Severity::kWarning)) std::cerr << d.to_string() << '\n';
  if (diags.has_errors()) {
    const auto n = diags.errors().size();
    std::cerr << file << ": " << n << (n == 1 ? " error" : " errors") << '\n';
    return std::nullopt;
  }
  return plan;
}

}  // namespace af::app
