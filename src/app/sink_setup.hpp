#pragma once
// Builds the SignalEmitter of a compiled plan: one sink per
// signal_generation.on_prediction entry, each on its own worker, all opened (every
// failure reported at once, naming the sink).

#include <memory>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "runtime/plugin_set.hpp"
#include "runtime/signal_emitter.hpp"

namespace af::app {

Result<std::unique_ptr<SignalEmitter>> build_signal_emitter(const dag::Plan& plan, const PluginSet& plugins);

}  // namespace af::app
