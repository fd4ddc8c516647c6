// The checks a bar message passes before `signal --bus` hands it to the engine,
// beyond the codec's (BusBarFeed, docs/scale-out.md "Bad messages").

#include <gtest/gtest.h>

#include <limits>

#include "common/time.hpp"
#include "nats/bus_bar_feed.hpp"

namespace af::nats {
namespace {

const std::string kSubject = "af.bars.binance_futures.1m.BTCUSDT";
const int64_t kTs = *parse_iso8601("2024-01-02T06:00:00Z");
const int64_t kStored = kTs + 60'000 + 150;  // stored just after its close

BarMessage btc(int64_t ts) {
  BarMessage m{{"binance_futures", "1m", "BTCUSDT"}, Bar{}};
  m.bar.ts = ts;
  return m;
}

std::string problem(const BarMessage& m, int64_t stored = kStored, const std::string& subject = kSubject) {
  return bar_message_problem(m, subject, "binance_futures", "1m", 60'000, stored);
}

TEST(BarMessageProblem, AClosedBarOnItsOwnSubjectPasses) {
  EXPECT_EQ(problem(btc(kTs)), "");
  EXPECT_EQ(problem(btc(kTs - 86'400'000)), "") << "an old bar is the engine's to drop, not a bad message";
  EXPECT_EQ(problem(btc(kTs), kTs + 60'000 - 4 * 60'000), "") << "within the clock skew allowed";
  EXPECT_EQ(problem(btc(kTs + 3'600'000), 0), "") << "stored time unknown: no future check";
}

TEST(BarMessageProblem, AnotherSeriesThanTheSubjectNames) {
  BarMessage eth = btc(kTs);
  eth.series.symbol = "ETHUSDT";
  EXPECT_EQ(problem(eth), "holds a bar of af.bars.binance_futures.1m.ETHUSDT");
  BarMessage hourly = btc(kTs);
  hourly.series.interval = "1h";
  EXPECT_EQ(problem(hourly, kStored, "af.bars.binance_futures.1h.BTCUSDT"),
            "holds a bar of af.bars.binance_futures.1h.BTCUSDT");
}

TEST(BarMessageProblem, OffTheIntervalsGrid) {
  EXPECT_EQ(problem(btc(kTs + 30'000)), "open time 2024-01-02T06:00:30Z is not on the 1m grid");
}

TEST(BarMessageProblem, ClosingAfterTheStreamStoredIt) {
  EXPECT_EQ(problem(btc(kTs), kTs + 60'000 - 6 * 60'000),
            "bar of 2024-01-02T06:00:00Z closes after the stream stored it (2024-01-02T05:55:00Z); a bar is "
            "published once closed");
  const int64_t far = std::numeric_limits<int64_t>::max() / 60'000 * 60'000;  // on the grid, no overflow
  EXPECT_NE(problem(btc(far)).find("closes after the stream stored it"), std::string::npos);
}

}  // namespace
}  // namespace af::nats
