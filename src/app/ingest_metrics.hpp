#pragma once
// IngestMetrics: what `ingest` shows on --metrics-port: the bus's publish counts
// (published, stored, refused as duplicate, failed, retried), the bars published
// (history, live), the connection (connected, disconnected for how long), and
// /healthz, unhealthy while the bus has been unreachable longer than a bound.
// Written by the ingest loop (plain atomic stores), read by the metrics server's
// io thread; no lock.

#include <atomic>
#include <cstdint>
#include <string>

#include "service/metrics_server.hpp"

namespace af::app {

struct IngestMetrics {
  std::atomic<uint64_t> published{0}, stored{0}, duplicates{0}, failed{0}, retries{0};
  std::atomic<uint64_t> history_bars{0}, live_bars{0};
  std::atomic<bool> connected{false};            // false until the first connection
  std::atomic<int64_t> disconnected_since_ms{0};  // wall time the bus was lost (or start-up), 0 while connected
  std::atomic<uint64_t> reconnects{0};
  std::atomic<int64_t> anchor{0};
  int64_t unhealthy_after_ms = 60'000;           // /healthz: bus unreachable longer than this
  std::string bus;                               // redacted, for the health reason

  std::string text() const;                      // Prometheus text
  service::HealthStatus health(int64_t now_ms) const;
};

}  // namespace af::app
