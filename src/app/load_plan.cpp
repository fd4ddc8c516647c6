#include <iostream>

#include "app/commands.hpp"
#include "app/plugin_paths.hpp"
#include "dag/compiler.hpp"
#include "dag/shard_plan.hpp"
#include "dsl/loader.hpp"
#include "python/class_spec.hpp"
#include "runtime/engine.hpp"
#include "sinks/plugin_sink.hpp"

namespace af::app {

std::optional<dag::Plan> load_plan(const std::string& file, PluginSet& plugins, LoadMode mode,
                                   Diagnostics* diagnostics, const std::optional<ShardSpec>& shard) {
  Diagnostics diags;
  // Sink plugins are registered before the pipeline is validated (their params
  // are checked like a built-in's); `validate` only checks that they exist.
  for (const auto& p : sink_plugin_paths(file, diags)) {
    if (mode == LoadMode::kValidate) continue;
    if (auto st = sinks::load_and_register_sink_plugin(plugins.sinks, p.path); !st)
      diags.error(p.mark.line > 0 ? file : p.where, p.mark, p.where, st.error().message);
  }
  registry::Catalog catalog = plugins.catalog();
  catalog.set_sink_plugins_unloaded(mode == LoadMode::kValidate);
  std::optional<dag::Plan> plan;
  if (!diags.has_errors()) {
    if (auto pipeline = dsl::load_pipeline_file(file, catalog, diags)) plan = dag::compile(*pipeline, catalog, diags);
  }
  // Before anything is built from it: a shard never loads, say, another shard's
  // per-symbol checkpoints.
  if (plan && shard && !dag::restrict_to_shard(*plan, *shard, diags)) plan.reset();
  // What start-up would refuse (a model's unknown feature column, a missing or
  // mismatched checkpoint) is refused here, at the step's place in the file.
  if (plan) Engine::check(*plan, plugins, diags);
  // A Python sink's file is checked here, where the pipeline's folder is known;
  // nothing is imported (validate runs no user code, as it loads no plugin).
  if (plan) {
    for (const auto& sink : plan->sinks) {
      if (sink.plugin.value != "sinks.python") continue;
      const std::string problem = python::class_spec_problem(sink.params.get_string("class"), plan->file);
      if (problem.empty()) continue;
      SourceMark mark = sink.plugin.mark;
      for (const auto& [name, m] : sink.param_marks)
        if (name == "class") mark = m;
      diags.error(plan->file, mark, sink.path + ".params.class", problem);
    }
  }
  diags.sort();
  if (diagnostics) *diagnostics = diags;
  // `validate` prints the plan, which lists the compiler's warnings already.
  auto in_plan = [&](const Diagnostic& d) {
    if (mode != LoadMode::kValidate || !plan || diags.has_errors() || d.severity != Severity::kWarning) return false;
    for (const auto& w : plan->warnings)
      if (w.to_string() == d.to_string()) return true;
    return false;
  };
  for (const auto& d : diags.items())
    if (!in_plan(d)) std::cerr << d.to_string() << '\n';
  if (diags.has_errors()) {
    const auto n = diags.errors().size();
    std::cerr << file << ": " << n << (n == 1 ? " error" : " errors") << '\n';
    return std::nullopt;
  }
  return plan;
}

bool require_sinks(const dag::Plan& plan, const std::string& command, const std::string& without) {
  if (!plan.sinks.empty()) return true;
  Diagnostics diags;
  diags.error(plan.file, plan.signal_mark, "signal_generation.on_prediction",
              "`" + command + "` needs at least one sink (the original requires on_prediction); " + without);
  std::cerr << diags.items().front().to_string() << '\n';
  return false;
}

}  // namespace af::app
