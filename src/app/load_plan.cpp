#include <iostream>

#include "app/commands.hpp"
#include "dag/compiler.hpp"
#include "dsl/loader.hpp"

namespace af::app {

std::optional<dag::Plan> load_plan(const std::string& file, const PluginSet& plugins) {
  const registry::Catalog catalog = plugins.catalog();
  Diagnostics diags;
  std::optional<dag::Plan> plan;
  if (auto pipeline = dsl::load_pipeline_file(file, catalog, diags)) {
    plan = dag::compile(*pipeline, catalog, diags);
  }
  diags.sort();
  for (const auto& d : diags.items()) std::cerr << d.to_string() << '\n';
  if (diags.has_errors()) {
    const auto n = diags.errors().size();
    std::cerr << file << ": " << n << (n == 1 ? " error" : " errors") << '\n';
    return std::nullopt;
  }
  return plan;
}

}  // namespace af::app
