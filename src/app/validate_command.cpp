#include <iostream>

#include "app/builtin_plugins.hpp"
#include "app/commands.hpp"
#include "dag/plan_format.hpp"

namespace af::app {
namespace {

// `validate --json` of an invalid pipeline: {"valid": false, "errors": [...],
// "warnings": [...]}, each item with file, line, column, path, message and the
// one-line text the plain form prints.
nlohmann::json diagnostics_to_json(const Diagnostics& diags) {
  auto item = [](const Diagnostic& d) {
    return nlohmann::json{{"file", d.file},   {"line", d.mark.line},       {"column", d.mark.column},
                          {"path", d.path},   {"message", d.message},      {"text", d.to_string()}};
  };
  nlohmann::json j{{"valid", false}, {"errors", nlohmann::json::array()}, {"warnings", nlohmann::json::array()}};
  for (const auto& d : diags.items()) j[d.severity == Severity::kError ? "errors" : "warnings"].push_back(item(d));
  return j;
}

}  // namespace

int run_validate(const ValidateArgs& args) {
  PluginSet plugins;
  register_all_builtins(plugins);
  Diagnostics diags;
  auto plan = load_plan(args.file, plugins, LoadMode::kValidate, &diags, args.shard);
  if (!plan) {
    if (args.json) std::cout << diagnostics_to_json(diags).dump(2) << '\n';
    return kExitInvalid;
  }
  if (args.json) {
    nlohmann::json j = dag::plan_to_json(*plan);
    if (args.shard) j["shard"] = args.shard->to_string();
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << dag::format_plan(*plan);
    // The plan's universes are already this shard's; say so.
    if (args.shard) std::cout << "shard " << args.shard->to_string() << ": the universes above are its symbols\n";
  }
  return kExitOk;
}

}  // namespace af::app
