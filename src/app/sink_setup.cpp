#include "app/sink_setup.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "delivery/ts_label_sink.hpp"
#include "service/state_store.hpp"

namespace af::app {

Result<std::unique_ptr<SignalEmitter>> build_signal_emitter(const dag::Plan& plan, const PluginSet& plugins,
                                                            const EmitterOptions& options) {
  SinkWorkerOptions defaults;
  defaults.block_when_full = options.backpressure;
  if (options.spool_max_bytes > 0) defaults.spool_max_bytes = options.spool_max_bytes;
  auto emitter = std::make_unique<SignalEmitter>(defaults);
  const std::string& spool_dir = options.spool_dir;
  if (!spool_dir.empty()) emitter->set_spool_dir(spool_dir);
  // What the predictions are computed from (the plan without its sinks): a sink
  // whose output outlives the run refuses output of other predictions.
  const std::string fingerprint = fmt::format("{:016x}", service::StateStore::predictions_fingerprint(plan));
  // Every symbol the pipeline predicts, once, in the plan's order.
  std::vector<std::string> symbols;
  for (const auto& source : plan.sources)
    for (const auto& sym : source.universe)
      if (std::find(symbols.begin(), symbols.end(), sym) == symbols.end()) symbols.push_back(sym);
  std::string errors;
  for (size_t i = 0; i < plan.sinks.size(); ++i) {
    const auto& spec = plan.sinks[i];
    const std::string name = spec.plugin.value + "[" + std::to_string(i) + "]";
    const auto* entry = plugins.sinks.find(spec.plugin.value);
    if (!entry) {
      errors += (errors.empty() ? "" : "; ") + name + ": no sink plugin '" + spec.plugin.value + "'";
      continue;
    }
    if (options.fresh && !spool_dir.empty()) {
      // Records an earlier run could not deliver belong to that run's output.
      const std::string spool = SignalEmitter::spool_path(spool_dir, name);
      std::error_code ec;
      for (const std::string& f : {spool, spool + ".offset"})
        if (std::filesystem::remove(f, ec); ec) {
          errors += (errors.empty() ? "" : "; ") + name + ": cannot remove the spool " + f + ": " + ec.message();
        }
    }
    const std::string where = plan.file + ":" + std::to_string(spec.plugin.mark.line) + ":" +
                              std::to_string(spec.plugin.mark.column);
    const TsLabel label = spec.params.has("ts_label") && spec.params.get_string("ts_label") == "close"
                              ? TsLabel::kClose
                              : TsLabel::kOpen;
    auto sink = entry->factory(SinkContext{spec.params, name, plan.name, labelled_fingerprint(fingerprint, label),
                                           options.fresh, options.ca_file, plan.file, where, symbols});
    if (!sink) {
      errors += (errors.empty() ? "" : "; ") + name + ": " + sink.error().message;
      continue;
    }
    // A close label is the prediction frame's bar close: open + its interval.
    emitter->add(name, apply_ts_label(std::move(sink).value(), label, plan.interval_ms));
  }
  if (!errors.empty()) return make_error(errors);
  if (options.open_later) {
    emitter->start_all();
    return emitter;
  }
  if (auto st = emitter->open_all(); !st) return st.error();
  return emitter;
}

}  // namespace af::app
