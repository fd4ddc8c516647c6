#pragma once
// PrometheusText: builds one scrape in the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// A value type, built on one thread per scrape (the metrics server's io thread, inside
// the caller's metrics callback) and thrown away. Samples of one family may be added
// in any order, interleaved with other families: str() groups them under a single
// `# HELP` / `# TYPE` pair, as the format requires, families in first-use order.
//
// Metric and label names come from code, so an invalid one is a programmer bug
// (assert); label values are arbitrary text and are escaped.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "service/latency_histogram.hpp"

namespace af::service {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  // A monotonically increasing count (events, reconnects, ...). By convention `name`
  // ends in `_total`.
  void counter(std::string_view name, std::string_view help, double value, const MetricLabels& labels = {});
  // A value that may go up and down (queue depth, RSS, staleness).
  void gauge(std::string_view name, std::string_view help, double value, const MetricLabels& labels = {});
  // `name_bucket{...,le="..."}` per bound (cumulative), then `name_sum` and `name_count`.
  // `labels` must not contain `le`.
  void histogram(std::string_view name, std::string_view help, const LatencyHistogram::Snapshot& snapshot,
                 const MetricLabels& labels = {});

  // The whole exposition, each line ending in '\n'.
  std::string str() const;

  // The number as Prometheus reads it: integers without exponent, other finite values
  // in the shortest round-trip form, and `+Inf`, `-Inf`, `NaN`.
  static std::string format_value(double v);
  // Escapes a label value: backslash, double quote and newline.
  static std::string escape_label_value(std::string_view v);

 private:
  struct Family {
    std::string name;
    std::string help;
    std::string_view type;
    std::string samples;  // sample lines, already formatted
  };

  Family& family(std::string_view name, std::string_view help, std::string_view type);
  static void append_sample(std::string& out, std::string_view name, const MetricLabels& labels,
                            std::string_view extra_label, std::string_view extra_value, double value);

  std::vector<Family> families_;
  std::unordered_map<std::string, size_t> index_;  // family name -> families_ position
};

}  // namespace af::service
