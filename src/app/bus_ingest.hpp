#pragma once
// BusIngest: `alpha_forge ingest`, the data steps of a pipeline published to the
// bus (docs/scale-out.md). It streams each data step with the same live feed as
// `signal` (WebSocket first, gapless assembly, REST repair, archive) and
// publishes every final bar, history and live, to a JetStream stream with its
// de-duplication id, in ts order per symbol:
//
//   1. connect to the bus (retrying while no server answers) and make sure the
//      stream exists, takes af.bars.> and keeps at least the retention;
//   2. start the feeds; the anchor A is the first kline message, as for signal;
//   3. per symbol, history starts after the newest bar the stream holds for its
//      subject, or, when it holds none, at A - retention (archive, then REST);
//   4. publish every bar the feeds hand over, in rounds (at most one bar per
//      symbol, all sent, then every ack awaited); a publish that fails
//      transiently is retried alone (same id) until it is acked or the run stops,
//      so the stream never holds a later bar of a symbol without the earlier ones;
//   5. on stop: finish the round in flight, stop the feeds.
// A restart resumes from what the stream holds: no gap, nothing twice (the ids
// make any overlap, e.g. with a standby ingest, a no-op at the server).
//
// Owned by the ingest command; run() is called on its main thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "app/ingest_metrics.hpp"
#include "nats/bus_options.hpp"
#include "runtime/plugin_set.hpp"
#include "service/live_driver.hpp"

namespace af::app {

struct BusIngestOptions {
  nats::BusOptions bus;
  std::string stream = "AF_BARS";
  int64_t retention_days = 0;  // 0: the pipeline's lookback_days
  int replicas = 1;
  int64_t duplicate_window_ms = 3'600'000;
  int64_t request_timeout_ms = 5000;
  service::LiveOptions live;  // endpoints, CA file, cache, anchor timeout (the rest is signal's)
};

struct BusIngestReport {
  int64_t anchor = 0;
  uint64_t history_bars = 0;  // published bars before the anchor
  uint64_t live_bars = 0;
  uint64_t published = 0, stored = 0, duplicates = 0, retries = 0;
  uint64_t resumed_symbols = 0;  // symbols whose history started after a bar the stream held
  double seconds = 0;
};

// Checks the options against the plan (retention covers the lookback, the data
// steps can be published); an error names the option.
Status check_bus_ingest(const dag::Plan& plan, const BusIngestOptions& options);

// Runs until `stop` turns true or a fatal error (a feed fails, the server refuses a
// bar). `metrics` is kept current for the metrics server (any thread may read it).
Result<BusIngestReport> run_bus_ingest(const dag::Plan& plan, const PluginSet& plugins, const BusIngestOptions& options,
                                       const std::atomic<bool>& stop, IngestMetrics& metrics);

}  // namespace af::app
