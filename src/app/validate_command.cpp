#include <iostream>

#include "app/builtin_plugins.hpp"
#include "app/commands.hpp"
#include "dag/plan_format.hpp"

namespace af::app {

int run_validate(const ValidateArgs& args) {
  PluginSet plugins;
  register_all_builtins(plugins);
  auto plan = load_plan(args.file, plugins, /*warnings_in_plan=*/true);
  if (!plan) return kExitInvalid;
  if (args.json) {
    std::cout << dag::plan_to_json(*plan).dump(2) << '\n';
  } else {
    std::cout << dag::format_plan(*plan);
  }
  return kExitOk;
}

}  // namespace af::app
