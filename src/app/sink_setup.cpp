#include "app/sink_setup.hpp"

namespace af::app {

Result<std::unique_ptr<SignalEmitter>> build_signal_emitter(const dag::Plan& plan, const PluginSet& plugins,
                                                            const std::string& spool_dir, bool backpressure,
                                                            uint64_t spool_max_bytes) {
  SinkWorkerOptions defaults;
  defaults.block_when_full = backpressure;
  if (spool_max_bytes > 0) defaults.spool_max_bytes = spool_max_bytes;
  auto emitter = std::make_unique<SignalEmitter>(defaults);
  if (!spool_dir.empty()) emitter->set_spool_dir(spool_dir);
  std::string errors;
  for (size_t i = 0; i < plan.sinks.size(); ++i) {
    const auto& spec = plan.sinks[i];
    const std::string name = spec.plugin.value + "[" + std::to_string(i) + "]";
    const auto* entry = plugins.sinks.find(spec.plugin.value);
    if (!entry) {
      errors += (errors.empty() ? "" : "; ") + name + ": no sink plugin '" + spec.plugin.value + "'";
      continue;
    }
    auto sink = entry->factory(SinkContext{spec.params, name, plan.name});
    if (!sink) {
      errors += (errors.empty() ? "" : "; ") + name + ": " + sink.error().message;
      continue;
    }
    emitter->add(name, std::move(sink).value());
  }
  if (!errors.empty()) return make_error(errors);
  if (auto st = emitter->open_all(); !st) return st.error();
  return emitter;
}

}  // namespace af::app
