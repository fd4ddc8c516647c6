#pragma once
// The standard `process_*` metrics every Prometheus client library exports (CPU time,
// resident memory, start time, file descriptors), read from Linux /proc, so that the
// dashboards and alerts operators already have for any process work for this one.
//
// Stateless; read_process_sample() reads /proc afresh on each call and is safe on any
// thread (the metrics server's io thread calls it once per scrape).

#include "service/prometheus_text.hpp"

namespace af::service {

// A value that could not be read (no /proc: not Linux, or a sandbox) is negative.
struct ProcessSample {
  double cpu_seconds = -1;             // user + system CPU time since start
  double start_time_seconds = -1;      // Unix time the process started
  double resident_memory_bytes = -1;   // resident set size now
  double virtual_memory_bytes = -1;    // virtual memory size now
  double open_fds = -1;                // file descriptors open now
  double max_fds = -1;                 // the soft limit on open file descriptors
};

ProcessSample read_process_sample();

// Adds the readable values of `s` as process_cpu_seconds_total (counter),
// process_start_time_seconds, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds and process_max_fds (gauges); an
// unreadable one is left out rather than exported as a made-up number.
void append_process_metrics(PrometheusText& t, const ProcessSample& s);

}  // namespace af::service
