#include "runtime/timer_schedule.hpp"

#include <gtest/gtest.h>

namespace af {
namespace {

constexpr int64_t kH = 3'600'000;

TEST(TimerScheduleTest, TicksAtBoundariesPlusBufferInTimeOrderShorterFirst) {
  TimerSchedule s({kH, 2 * kH}, 5 * 60'000, 1);
  // The first reading: 00:30. Ticks at 01:05 (1h), 02:05 (1h and 2h: 1h first), 03:05 ...
  EXPECT_FALSE(s.next_due(0, kH / 2));
  EXPECT_FALSE(s.next_due(0, kH + 5 * 60'000 - 1));
  auto t = s.next_due(0, 3 * kH);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->timer, 0u);
  EXPECT_EQ(t->boundary, kH);
  EXPECT_EQ(t->at, kH + 5 * 60'000);
  t = s.next_due(0, 3 * kH);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->timer, 0u);
  EXPECT_EQ(t->boundary, 2 * kH);
  t = s.next_due(0, 3 * kH);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->timer, 1u);
  EXPECT_EQ(t->boundary, 2 * kH);
  EXPECT_FALSE(s.next_due(0, 3 * kH));  // 03:05 not yet
}

TEST(TimerScheduleTest, NoTickBeforeTheFirstReading) {
  TimerSchedule s({kH}, 0, 1);
  // First reading exactly on a boundary: that tick is due (at == now), not the ones before.
  auto t = s.next_due(0, 10 * kH);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->boundary, 10 * kH);
  EXPECT_FALSE(s.next_due(0, 10 * kH));
}

TEST(TimerScheduleTest, SaveLoadKeepsTheNextTick) {
  TimerSchedule a({kH}, 0, 1);
  ASSERT_TRUE(a.next_due(0, kH));
  StateWriter w;
  a.save(w);
  const std::string bytes = w.take();
  TimerSchedule b({kH}, 0, 1);
  StateReader r(bytes);
  ASSERT_TRUE(b.load(r));
  auto t = b.next_due(0, 5 * kH);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->boundary, 2 * kH);  // continues, does not restart at 5h
  StateWriter w2;
  a.save(w2);
  TimerSchedule two({kH, 2 * kH}, 0, 1);
  const std::string bytes2 = w2.take();
  StateReader r2(bytes2);
  EXPECT_FALSE(two.load(r2));  // another pipeline's timers
}

TEST(TimerScheduleTest, EachSymbolRunsOnItsOwnClock) {
  TimerSchedule s({kH}, 0, 2);
  ASSERT_FALSE(s.next_due(0, kH - 1));  // symbol 0 starts at 00:59:59.999
  ASSERT_FALSE(s.next_due(1, 5 * kH - 1));  // symbol 1 starts at 04:59:59.999
  // Symbol 0's clock jumps to 03:00: its ticks at 1h, 2h, 3h; symbol 1's first is 5h.
  for (int64_t h = 1; h <= 3; ++h) {
    auto t = s.next_due(0, 3 * kH);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->boundary, h * kH);
  }
  EXPECT_FALSE(s.next_due(0, 3 * kH));
  EXPECT_FALSE(s.next_due(1, 3 * kH));
  auto t = s.next_due(1, 5 * kH);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->boundary, 5 * kH);
}

}  // namespace
}  // namespace af
