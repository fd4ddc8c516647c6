// What the live service's metrics endpoint and health check show (DESIGN §7).
// Runs on the metrics server's io thread: it reads atomics, the feeds' and the
// sinks' thread-safe stats, never the engine itself.

#include <algorithm>

#include "common/process_memory.hpp"
#include "common/time.hpp"
#include "service/build_info.hpp"
#include "service/live_driver_impl.hpp"
#include "service/process_metrics.hpp"
#include "service/prometheus_text.hpp"

namespace af::service {

namespace {

// Unix seconds from ms since the epoch; 0 (never) stays 0.
double unix_seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

// Names follow Prometheus' conventions: base units (seconds, bytes), moments as Unix
// timestamps in seconds (`*_timestamp_seconds`, 0 for "not yet") rather than ages, so
// a stalled scrape cannot freeze an age and an alert computes `time() - x` itself.
// docs/operations.md lists every family; tests/integration/signal checks both ways.
std::string LiveDriver::Impl::metrics_text() const {
  PrometheusText t;
  const auto d = [](uint64_t v) { return static_cast<double>(v); };
  t.gauge("af_build_info", "Always 1; the labels say which build runs",
          1, {{"version", std::string(build_version())}, {"commit", std::string(build_commit())}});
  t.counter("af_events_total", "Closed source bars run through the engine (warmup included)", d(events.load()));
  t.counter("af_history_bars_total", "Warmup bars before the anchor", d(history_bars.load()));
  t.counter("af_catch_up_bars_total", "Bars fetched after a restart for the time the service was down",
            d(catch_up_bars.load()));
  t.counter("af_live_bars_total", "Closed bars from the stream and its REST backfill", d(live_bars.load()));
  t.counter("af_predictions_total", "Prediction records handed to the sinks", d(predictions.load()));
  t.counter("af_predictions_nan_skipped_total", "Predictions not emitted because they were NaN",
            d(nan_skipped.load()));
  t.counter("af_engine_duplicates_total", "Re-delivered identical bars dropped by the engine", d(duplicates.load()));
  t.counter("af_engine_revisions_total", "Re-delivered different bars for a processed ts (logged, ignored)",
            d(revisions.load()));
  t.counter("af_snapshots_total", "State snapshots written", d(snapshot_writer ? snapshot_writer->written() : 0));
  t.counter("af_snapshot_failures_total", "State snapshots that could not be written",
            d(snapshot_writer ? snapshot_writer->failed() : 0));
  if (snapshot_writer) {
    t.gauge("af_snapshot_last_written_timestamp_seconds",
            "Unix time of the newest snapshot this run wrote (0: none yet)",
            unix_seconds(snapshot_writer->last_written_ms()));
    t.gauge("af_snapshot_max_age_seconds",
            "Age of the newest snapshot (before the first: of the end of warmup) past which /healthz fails",
            unix_seconds(snapshot_max_age_ms));
  }
  t.gauge("af_warmup_done", "1 once warmup (or the catch-up after a restart) is done", warmup_done.load() ? 1 : 0);
  t.gauge("af_warmup_done_timestamp_seconds", "Unix time warmup (or the catch-up after a restart) ended (0: not yet)",
          unix_seconds(warmup_done_ms.load()));
  t.gauge("af_warmup_bars_expected",
          "History bars warmup (or the catch-up after a restart) expects: one per interval up to the anchor",
          d(warmup_bars_expected.load()));
  t.gauge("af_warmup_bars_loaded", "History bars received so far by warmup (or the catch-up after a restart)",
          d(warmup_bars_loaded.load()));
  t.gauge("af_restored_from_snapshot", "1 when this run resumed from a snapshot", restored.load() ? 1 : 0);
  t.gauge("af_anchor_timestamp_seconds", "The anchor A, the first streamed bar's open time, in Unix seconds (0: not yet)",
          unix_seconds(anchor.load()));
  t.histogram("af_bar_close_to_emit_seconds",
              "From a live bar found final (its close as seen here) to its prediction handed to the sinks",
              close_to_emit.snapshot());

  for (const auto& f : feeds) {
    const auto s = f.feed->stats();
    const MetricLabels l{{"source", plan.sources[f.source].event}};
    t.counter("af_feed_bars_total", "Bars delivered by a feed, by kind", d(s.history_bars),
              {{"source", plan.sources[f.source].event}, {"kind", "history"}});
    t.counter("af_feed_bars_total", "Bars delivered by a feed, by kind", d(s.live_bars),
              {{"source", plan.sources[f.source].event}, {"kind", "live"}});
    t.counter("af_feed_bars_from_rest_total", "Live bars that came from REST (late, missing or gap)",
              d(s.live_bars_fetched), l);
    t.counter("af_feed_duplicates_total", "Re-delivered identical bars dropped by the bar assembler",
              d(s.duplicates), l);
    t.counter("af_feed_revisions_total", "Different re-deliveries of a final bar (ignored)", d(s.revisions),
              l);
    t.counter("af_feed_gaps_repaired_total", "Missing bars found and fetched over REST", d(s.missing_bars),
              l);
    t.counter("af_feed_real_gaps_total", "Bars the exchange does not have (outages)", d(s.real_gaps), l);
    t.counter("af_feed_future_bars_total", "Updates for a bar after the exchange's clock (held back, not applied)",
              d(s.future_bars), l);
    t.counter("af_feed_updates_superseded_total",
              "Open-bar updates replaced by a newer one while the feed's worker was busy (history, slow REST)",
              d(s.superseded_updates), l);
    t.counter("af_feed_archive_files_rejected_total",
              "Archive files that matched their checksum but could not be read (dropped; REST instead)",
              d(s.archive_files_rejected), l);
    t.counter("af_feed_reconnects_total", "WebSocket reconnects", d(s.reconnects), l);
    t.counter("af_feed_rest_requests_total", "REST kline requests (ClickHouse: polls)", d(s.requests), l);
    t.counter("af_feed_rows_read_total", "Rows read from a polled table (data.clickhouse_poll)", d(s.rows_read), l);
    t.counter("af_feed_rest_failures_total", "REST kline requests that failed", d(s.request_failures), l);
    t.gauge("af_feed_last_message_timestamp_seconds",
            "Unix time of the newest kline message (ClickHouse: successful poll); 0: none yet",
            unix_seconds(s.last_data_ms), l);
    t.gauge("af_feed_stale_after_seconds", "Silence after which the feed counts as stale (/healthz, reconnect)",
            unix_seconds(f.feed->stale_after_ms()), l);
  }
  for (const auto& s : sinks->stats()) {
    const MetricLabels l{{"sink", s.name}};
    t.counter("af_sink_sent_total", "Records accepted by the sink", d(s.sent), l);
    t.counter("af_sink_retried_total", "Writes retried after a transient error", d(s.retried), l);
    t.counter("af_sink_spooled_total", "Records written to the spool", d(s.spooled), l);
    t.counter("af_sink_replayed_total", "Records delivered from the spool", d(s.replayed), l);
    t.counter("af_sink_failed_total", "Records lost (neither delivered nor spooled)", d(s.failed), l);
    t.counter("af_sink_held_back_total",
              "Records held back because the spool was full or failing (computed again after a restart)",
              d(s.held_back), l);
    t.gauge("af_sink_queue_depth", "Records waiting in the sink's queue", d(s.queue_depth), l);
    t.gauge("af_sink_spool_pending", "Records waiting in the sink's spool", d(s.spool_pending), l);
    t.gauge("af_sink_spool_bytes", "Size of the sink's spool file", d(s.spool_bytes), l);
    if (s.spool_limit_bytes > 0)
      t.gauge("af_sink_spool_limit_bytes", "Bound of the sink's spool file (--spool-max-mb): when full, newer records "
              "are held back", d(s.spool_limit_bytes), l);
    t.gauge("af_sink_spooling", "1 while newer records go to the spool (the sink is behind)", s.spooling ? 1 : 0, l);
    t.gauge("af_sink_spool_full", "1 once the spool refused records: newer ones are held back until a restart",
            s.spool_full ? 1 : 0, l);
    t.gauge("af_sink_dead", "1 when a fatal error stopped the sink", s.dead ? 1 : 0, l);
  }
  append_process_metrics(t, read_process_sample());
  // No standard name: the clients export the current RSS only.
  t.gauge("af_process_peak_resident_memory_bytes", "Peak resident set size, in bytes",
          static_cast<double>(peak_rss_bytes()));
  std::string text = t.str();
  if (options.extra_metrics) text += options.extra_metrics();
  return text;
}

HealthStatus LiveDriver::Impl::health() const {
  {
    std::lock_guard lock(failure_mutex);
    if (!failure.empty()) return {false, "feed failed: " + failure};
  }
  if (options.extra_health) {
    if (std::string why = options.extra_health(); !why.empty()) return {false, why};
  }
  if (!warmup_done.load()) return {false, "warming up"};
  const int64_t now = now_ms();
  for (const auto& f : feeds) {
    const auto s = f.feed->stats();
    if (s.last_data_ms > 0 && now - s.last_data_ms > f.feed->stale_after_ms()) {
      return {false, "stream " + plan.sources[f.source].event + " stale for " +
                         std::to_string((now - s.last_data_ms) / 1000) + " s"};
    }
  }
  const auto sink_stats = sinks->stats();
  for (const auto& s : sink_stats) {
    if (s.dead) return {false, "sink " + s.name + " stopped: " + s.last_error};
  }
  for (const auto& s : sink_stats) {
    if (s.spool_full)
      return {false, "sink " + s.name + " spool full: " + std::to_string(s.held_back) +
                         " records held back, restart once it has room: " + s.last_error};
  }
  if (const int64_t age = snapshot_age_ms(now); age > snapshot_max_age_ms) {
    const Status last = snapshot_writer->last_status();
    return {false, "no snapshot for " + std::to_string(age / 1000) + " s (bound " +
                       std::to_string(snapshot_max_age_ms / 1000) + " s): " +
                       (last ? std::string("records not settled in the sinks") : "failing: " + last.error().message)};
  }
  for (const auto& s : sink_stats) {
    if (s.spooling)
      return {false, "sink " + s.name + " spooling: " + std::to_string(s.spool_pending) +
                         " records wait in its spool" + (s.last_error.empty() ? "" : ": " + s.last_error)};
  }
  return {true, ""};
}

int64_t LiveDriver::Impl::snapshot_age_ms(int64_t now) const {
  if (!snapshot_writer || !warmup_done.load()) return -1;
  const int64_t since = std::max(snapshot_writer->last_written_ms(), warmup_done_ms.load());
  return std::max<int64_t>(0, now - since);
}

}  // namespace af::service
