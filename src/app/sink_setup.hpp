#pragma once
// Builds the SignalEmitter of a compiled plan: one sink per
// signal_generation.on_prediction entry, each on its own worker, all opened (every
// failure reported at once, naming the sink).

#include <memory>
#include <string>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "runtime/plugin_set.hpp"
#include "delivery/signal_emitter.hpp"

namespace af::app {

// spool_dir: where records a sink cannot take yet are kept durably ("" = none:
// such records are counted as failed and reported by close()). backpressure: a
// What a run asks of its sinks' delivery.
struct EmitterOptions {
  // Where records a sink cannot take yet are kept durably ("" = none: such
  // records are counted as failed and reported by close()).
  std::string spool_dir;
  // A full sink queue makes emit() wait (replay) instead of spilling (live).
  bool backpressure = false;
  // Each spool file's bound (0: SinkWorkerOptions' default).
  uint64_t spool_max_bytes = 0;
  // `replay --fresh`: every sink starts its output anew and the spools of
  // earlier runs are discarded.
  bool fresh = false;
  // `--ca-file`, the CAs sinks trust over TLS ("" = $SSL_CERT_FILE, else the
  // system's): the same trust as the market data.
  std::string ca_file;
  // The sinks are started but not waited for: the caller calls
  // SignalEmitter::wait_open_all() before the first emit (replay opens its data
  // meanwhile).
  bool open_later = false;
};

// Builds and opens every sink of the plan (see open_later); each is told the plan's fingerprint.
Result<std::unique_ptr<SignalEmitter>> build_signal_emitter(const dag::Plan& plan, const PluginSet& plugins,
                                                            const EmitterOptions& options);

}  // namespace af::app
