#pragma once
// LatencyHistogram: a fixed-bucket histogram of latencies in seconds, Prometheus' base
// unit (the live service's bar-close-to-emit latency), exported as a Prometheus
// histogram and summarised by quantiles.
//
// Owned by whoever measures (the live driver). record() is lock-free and may be called
// from any thread (normally the single compute thread); snapshot() may run at the same
// time on another thread (the metrics server's io thread).

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace af::service {

class LatencyHistogram {
 public:
  // What a reader sees: cumulative counts per upper bound, as Prometheus wants them.
  struct Snapshot {
    std::vector<double> upper_bounds;         // ascending; the last one is +Inf
    std::vector<uint64_t> cumulative_counts;  // same size; observations <= upper_bounds[i]
    double sum = 0;                           // sum of the observed values (seconds)
    uint64_t count = 0;                       // == cumulative_counts.back()

    // The q-quantile (0 <= q <= 1) estimated by linear interpolation inside the bucket
    // that holds the rank q * count, the lower edge of the first bucket taken as 0 (as
    // Prometheus' histogram_quantile does). A rank in the +Inf bucket gives the largest
    // finite bound. NaN when nothing was recorded.
    double quantile(double q) const;
  };

  // Bounds in seconds used by the live service: 50 us to 60 s, then +Inf.
  static const std::vector<double>& default_bounds_seconds();

  LatencyHistogram() : LatencyHistogram(default_bounds_seconds()) {}
  // `bounds` (seconds): finite, strictly ascending; +Inf is added.
  explicit LatencyHistogram(std::vector<double> bounds);

  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // Counts one observation. A value below the first bound (negative included, from
  // clock skew) lands in the first bucket; NaN is ignored.
  void record(double seconds);

  // A copy taken without stopping writers. The count is derived from the buckets, so
  // the +Inf bucket always equals the count; the sum may miss an observation that is
  // being recorded at that very moment.
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;  // finite bounds; bucket bounds_.size() is +Inf
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative, bounds_.size() + 1
  std::atomic<double> sum_{0.0};
};

}  // namespace af::service
