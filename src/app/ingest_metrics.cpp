#include "app/ingest_metrics.hpp"

#include "service/prometheus_text.hpp"

namespace af::app {

std::string IngestMetrics::text() const {
  service::PrometheusText t;
  t.counter("af_bus_published_total", "Bars sent to the bus (every attempt, retries included)", published.load());
  t.counter("af_bus_stored_total", "Bars the server acked as new (stored in the stream)", stored.load());
  t.counter("af_bus_duplicates_total", "Bars the server acked as duplicates of an id it holds (not stored again)",
            duplicates.load());
  t.counter("af_bus_publish_failures_total", "Publishes without an ack (no server, timeout, refusal)", failed.load());
  t.counter("af_bus_publish_retries_total", "Publishes retried after a transient failure", retries.load());
  t.counter("af_bus_reconnects_total", "Reconnections of the bus connection", reconnects.load());
  t.gauge("af_bus_connected", "1 while connected to a NATS server", connected.load() ? 1 : 0);
  const int64_t since = disconnected_since_ms.load();
  t.gauge("af_bus_disconnected_since_seconds", "Wall time (Unix seconds) the bus was lost, 0 while connected",
          static_cast<double>(since) / 1000.0);
  t.counter("af_ingest_bars_total", "Bars published and acked", history_bars.load(), {{"kind", "history"}});
  t.counter("af_ingest_bars_total", "Bars published and acked", live_bars.load(), {{"kind", "live"}});
  t.gauge("af_ingest_anchor_seconds", "The anchor (first kline message's bar), Unix seconds; 0 before it",
          static_cast<double>(anchor.load()) / 1000.0);
  return t.str();
}

service::HealthStatus IngestMetrics::health(int64_t now_ms) const {
  const int64_t since = disconnected_since_ms.load();
  if (!connected.load() && since > 0 && now_ms - since > unhealthy_after_ms) {
    return {false, "bus " + bus + " unreachable for " + std::to_string((now_ms - since) / 1000) + " s"};
  }
  return {};
}

}  // namespace af::app
