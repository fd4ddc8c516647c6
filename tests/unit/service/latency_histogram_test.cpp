#include "service/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace af::service {
namespace {

TEST(LatencyHistogram, DefaultBounds) {
  LatencyHistogram h;
  const auto s = h.snapshot();
  // Seconds, Prometheus' base unit: 50 us .. 60 s.
  const std::vector<double> finite = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025,
                                      0.05,    0.1,    0.25,    0.5,    1,     2.5,   5,     10,    30,   60};
  ASSERT_EQ(s.upper_bounds.size(), finite.size() + 1);
  for (size_t i = 0; i < finite.size(); ++i) EXPECT_EQ(s.upper_bounds[i], finite[i]);
  EXPECT_TRUE(std::isinf(s.upper_bounds.back()));
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0);
  EXPECT_TRUE(std::isnan(s.quantile(0.5)));
}

TEST(LatencyHistogram, CumulativeCountsAndSum) {
  LatencyHistogram h({1, 10, 100});
  // Bucket i holds values in (bound[i-1], bound[i]]: a value equal to a bound goes in
  // that bound's bucket; negatives (clock skew) go in the first; NaN is dropped.
  const std::vector<double> values = {-2, 0, 1, 1.5, 10, 10.25, 99, 100, 100.5, 1e9};
  for (double v : values) h.record(v);
  h.record(std::numeric_limits<double>::quiet_NaN());

  // Naive reference: count values <= each bound.
  const std::vector<double> bounds = {1, 10, 100};
  const auto s = h.snapshot();
  ASSERT_EQ(s.cumulative_counts.size(), 4u);
  double sum = 0;
  for (double v : values) sum += v;
  for (size_t i = 0; i < bounds.size(); ++i) {
    uint64_t expected = 0;
    for (double v : values) expected += v <= bounds[i] ? 1 : 0;
    EXPECT_EQ(s.cumulative_counts[i], expected) << "le=" << bounds[i];
  }
  EXPECT_EQ(s.cumulative_counts, (std::vector<uint64_t>{3, 5, 8, 10}));
  EXPECT_EQ(s.count, values.size());
  EXPECT_DOUBLE_EQ(s.sum, sum);
}

TEST(LatencyHistogram, QuantileInterpolatesInsideTheBucket) {
  LatencyHistogram h({10, 20, 40});
  for (int i = 0; i < 10; ++i) h.record(5);   // (0, 10]
  for (int i = 0; i < 10; ++i) h.record(15);  // (10, 20]
  const auto s = h.snapshot();
  // rank = q * 20; worked by hand: lower + width * (rank - below) / in_bucket.
  EXPECT_DOUBLE_EQ(s.quantile(0.25), 5);    // rank 5 of 10 in [0, 10]
  EXPECT_DOUBLE_EQ(s.quantile(0.5), 10);    // rank 10: the top of the first bucket
  EXPECT_DOUBLE_EQ(s.quantile(0.75), 15);   // rank 15: 5 of 10 into [10, 20]
  EXPECT_DOUBLE_EQ(s.quantile(0.99), 19.8); // rank 19.8: 9.8 of 10 into [10, 20]
  EXPECT_DOUBLE_EQ(s.quantile(1.0), 20);
  EXPECT_DOUBLE_EQ(s.quantile(0.0), 0);
}

TEST(LatencyHistogram, QuantileInTheInfBucketIsTheLastFiniteBound) {
  LatencyHistogram h({10, 20});
  h.record(5);
  for (int i = 0; i < 9; ++i) h.record(1000);
  const auto s = h.snapshot();
  EXPECT_DOUBLE_EQ(s.quantile(0.5), 20);
  EXPECT_DOUBLE_EQ(s.quantile(0.05), 5);  // rank 0.5 of 1 in [0, 10]
}

TEST(LatencyHistogram, ConcurrentRecordAndSnapshot) {
  LatencyHistogram h({1, 2, 5, 10, 100});
  constexpr int kN = 300000;
  const double pattern[] = {0.5, 1, 2, 3, 7, 50, 500};  // integers and halves: the sum is exact
  std::atomic<bool> done{false};

  // The writer pauses halfway until the reader has seen that state, so at least one
  // snapshot is taken mid-run even when the scheduler runs the threads one by one.
  std::atomic<bool> seen_half{false};
  std::thread writer([&] {
    for (int i = 0; i < kN; ++i) {
      if (i == kN / 2) {
        while (!seen_half.load()) std::this_thread::yield();
      }
      h.record(pattern[i % 7]);
    }
    done = true;
  });

  int snapshots = 0;
  int failures = 0;
  int mid_run = 0;  // snapshots with 0 < count < kN
  std::thread reader([&] {
    LatencyHistogram::Snapshot prev = h.snapshot();
    bool last = false;
    while (!last) {
      last = done.load();
      const auto s = h.snapshot();
      ++snapshots;
      if (s.count > 0 && s.count < static_cast<uint64_t>(kN)) ++mid_run;
      if (s.count >= static_cast<uint64_t>(kN / 2)) seen_half = true;
      bool ok = s.count == s.cumulative_counts.back() && s.count >= prev.count && s.sum >= prev.sum;
      for (size_t i = 0; i < s.cumulative_counts.size(); ++i) {
        if (i > 0 && s.cumulative_counts[i] < s.cumulative_counts[i - 1]) ok = false;  // cumulative
        if (s.cumulative_counts[i] < prev.cumulative_counts[i]) ok = false;             // monotonic
      }
      if (!ok) ++failures;
      prev = s;
    }
  });
  writer.join();
  reader.join();

  EXPECT_EQ(failures, 0);
  EXPECT_GT(snapshots, 1);
  EXPECT_GE(mid_run, 1);
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kN));
  double sum = 0;
  std::vector<uint64_t> per_bucket(6, 0);
  const std::vector<double> bounds = {1, 2, 5, 10, 100};
  for (int i = 0; i < kN; ++i) {
    const double v = pattern[i % 7];
    sum += v;
  }
  for (size_t b = 0; b < bounds.size(); ++b) {
    uint64_t expected = 0;
    for (int i = 0; i < 7; ++i) expected += pattern[i] <= bounds[b] ? 1 : 0;
    expected *= kN / 7;
    for (int i = 0; i < kN % 7; ++i) expected += pattern[i] <= bounds[b] ? 1 : 0;
    EXPECT_EQ(s.cumulative_counts[b], expected) << "le=" << bounds[b];
  }
  EXPECT_EQ(s.sum, sum);
}

}  // namespace
}  // namespace af::service
