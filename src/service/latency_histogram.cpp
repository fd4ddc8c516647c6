#include "service/latency_histogram.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace af::service {

// record() runs on the compute thread; a lock there could stall it behind a scrape.
static_assert(std::atomic<double>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

const std::vector<double>& LatencyHistogram::default_bounds_seconds() {
  // From 50 us: the engine's own part is well under a millisecond, and a bucket
  // [0, 1 ms) would hide it. Up to a minute: a bar fetched over REST after its buffer.
  // 3 ms is a bound of its own: the live service's close-to-emit target (p99 at
  // most 3 ms, docs/performance.md), which a (2 ms, 5 ms] bucket could not confirm.
  // Written as decimal literals so that each `le` label reads as written.
  static const std::vector<double> kBounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003,
                                              0.005,   0.01,   0.025,   0.05,   0.1,   0.25,  0.5,
                                              1,       2.5,    5,       10,     30,    60};
  return kBounds;
}

LatencyHistogram::LatencyHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  assert(!bounds_.empty() && "LatencyHistogram: at least one finite bound");
  for (size_t i = 0; i < bounds_.size(); ++i) {
    assert(std::isfinite(bounds_[i]) && "LatencyHistogram: bounds must be finite (+Inf is implied)");
    assert((i == 0 || bounds_[i - 1] < bounds_[i]) && "LatencyHistogram: bounds must be strictly ascending");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void LatencyHistogram::record(double seconds) {
  if (std::isnan(seconds)) return;
  // Prometheus buckets are "less than or equal": the first bound >= seconds.
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin());
  sum_.fetch_add(seconds, std::memory_order_relaxed);
  buckets_[i].fetch_add(1, std::memory_order_release);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  s.upper_bounds.push_back(std::numeric_limits<double>::infinity());
  s.cumulative_counts.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_acquire);
    s.cumulative_counts[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

double LatencyHistogram::Snapshot::quantile(double q) const {
  assert(q >= 0 && q <= 1 && "LatencyHistogram::Snapshot::quantile: q must be in [0, 1]");
  assert(upper_bounds.size() == cumulative_counts.size());
  if (count == 0 || cumulative_counts.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * static_cast<double>(count);
  size_t i = 0;
  while (i + 1 < cumulative_counts.size() && static_cast<double>(cumulative_counts[i]) < rank) ++i;
  if (std::isinf(upper_bounds[i])) {
    // Nothing is known above the last finite bound; report it rather than infinity.
    return i > 0 ? upper_bounds[i - 1] : std::numeric_limits<double>::quiet_NaN();
  }
  const double lower = i > 0 ? upper_bounds[i - 1] : std::min(0.0, upper_bounds[0]);
  const double upper = upper_bounds[i];
  const double below = i > 0 ? static_cast<double>(cumulative_counts[i - 1]) : 0.0;
  const double in_bucket = static_cast<double>(cumulative_counts[i]) - below;
  if (in_bucket <= 0) return lower;
  return lower + (upper - lower) * (rank - below) / in_bucket;
}

}  // namespace af::service
