#include "service/status_board.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

namespace af::service {
namespace {

TEST(StatusBoard, NewestBarPredictionAndBarsFromRestPerSymbol) {
  StatusBoard b(3);
  const std::string btc = "BTCUSDT", eth = "ETHUSDT";
  b.on_bar(1, eth, 60'000, 60'000, BarOrigin::kArchive, false, 1000);
  b.on_bar(0, btc, 60'000, 60'000, BarOrigin::kStream, true, 1001);
  b.on_bar(0, btc, 120'000, 60'000, BarOrigin::kRest, true, 1002);
  b.on_bar(0, btc, 180'000, 60'000, BarOrigin::kRest, false, 1003);  // warmup from REST: not counted
  // A coarser source's bar with an older open time: neither the newest bar nor the interval.
  b.on_bar(0, btc, 0, 3'600'000, BarOrigin::kStream, true, 1004);
  b.on_prediction(&btc, 120'000, 0.25, 1005);
  // Another string with the same name (a record of a recreated engine) finds it too.
  const std::string btc_again = "BTCUSDT";
  b.on_prediction(&btc_again, 120'000, 0.25, 1005);
  // A name with no bar is ignored.
  const std::string xrp = "XRPUSDT";
  b.on_prediction(&xrp, 120'000, 1.0, 1005);

  const auto s = b.symbols();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "BTCUSDT");  // by name
  EXPECT_EQ(s[0].last_bar_ts, 180'000);
  EXPECT_EQ(s[0].last_bar_at_ms, 1003);
  EXPECT_EQ(s[0].interval_ms, 60'000);
  EXPECT_EQ(s[0].bars, 4u);
  EXPECT_EQ(s[0].live_bars_from_rest, 1u);
  ASSERT_TRUE(s[0].has_prediction);
  EXPECT_EQ(s[0].last_prediction.ts, 120'000);
  EXPECT_EQ(s[0].last_prediction.value, 0.25);
  EXPECT_EQ(s[0].last_prediction_at_ms, 1005);
  EXPECT_EQ(s[1].name, "ETHUSDT");
  EXPECT_FALSE(s[1].has_prediction);
  EXPECT_TRUE(s[1].recent.empty());
}

TEST(StatusBoard, RecentPredictionsKeepTheNewestInOrder) {
  StatusBoard b(3);
  const std::string btc = "BTCUSDT";
  b.on_bar(0, btc, 0, 60'000, BarOrigin::kStream, true, 0);
  for (int i = 1; i <= 2; ++i) b.on_prediction(&btc, i, i * 0.5, i);
  auto r = b.symbols()[0].recent;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].ts, 1);
  EXPECT_EQ(r[1].ts, 2);
  for (int i = 3; i <= 7; ++i) b.on_prediction(&btc, i, i * 0.5, i);
  r = b.symbols()[0].recent;
  ASSERT_EQ(r.size(), 3u);  // the bound
  EXPECT_EQ(r[0].ts, 5);
  EXPECT_EQ(r[1].ts, 6);
  EXPECT_EQ(r[2].ts, 7);
  EXPECT_EQ(r[2].value, 3.5);
}

// The compute thread writes while the io thread reads: every copy is consistent
// (the ring in order, the last prediction its newest point).
TEST(StatusBoard, ConcurrentWriterAndReader) {
  StatusBoard b(16);
  const std::string btc = "BTCUSDT";
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int64_t i = 1; i <= 20000; ++i) {
      b.on_bar(0, btc, i, 60'000, BarOrigin::kStream, true, i);
      b.on_prediction(&btc, i, static_cast<double>(i), i);
    }
    done = true;
  });
  size_t reads = 0;
  std::string broken;  // the first inconsistent copy; the writer is joined before any assertion
  while (!done.load() && broken.empty()) {
    for (const auto& s : b.symbols()) {
      if (!s.has_prediction) {  // its first bar, before its first prediction
        if (!s.recent.empty()) broken = "points before a prediction";
        continue;
      }
      if (s.recent.empty() || s.recent.back().ts != s.last_prediction.ts) broken = "last point is not the last prediction";
      for (size_t i = 1; i < s.recent.size(); ++i) {
        if (s.recent[i].ts != s.recent[i - 1].ts + 1) broken = "ring out of order";
      }
      if (s.last_bar_ts < s.last_prediction.ts) broken = "prediction newer than the bar";
    }
    ++reads;
  }
  writer.join();
  EXPECT_EQ(broken, "");
  EXPECT_GT(reads, 0u);
  EXPECT_EQ(b.symbols()[0].bars, 20000u);
}

}  // namespace
}  // namespace af::service
