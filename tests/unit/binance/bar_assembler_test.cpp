// BarAssembler: every finality rule of DESIGN §2, gaps, reconnect backfill, and a
// randomised stream with faults checked against the true bar series.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "binance/bar_assembler.hpp"

namespace af::binance {
namespace {

constexpr int64_t kIv = 60'000;
constexpr int64_t kT0 = 1'700'000'040'000;  // aligned to 1m
constexpr int64_t kBuffer = 30'000;

Bar make_bar(int64_t ts, double close, double volume = 10, BarOrigin origin = BarOrigin::kStream) {
  Bar b;
  b.ts = ts;
  b.open = close - 1;
  b.high = close + 2;
  b.low = close - 2;
  b.close = close;
  b.volume = volume;
  b.quote_volume = volume * close;
  b.trades = 5;
  b.origin = origin;
  return b;
}

class BarAssemblerTest : public ::testing::Test {
 protected:
  BarAssemblerTest() : a_(2, BarAssemblerOptions{.interval_ms = kIv, .buffer_ms = kBuffer, .retry_ms = 10'000}) {}
  void update(uint32_t sym, const Bar& b, bool closed, int64_t now) { a_.on_update(sym, b, closed, now, out_); }
  std::vector<int64_t> emitted_ts(uint32_t sym) const {
    std::vector<int64_t> ts;
    for (const auto& f : out_.bars) {
      if (f.symbol == sym) ts.push_back(f.bar.ts);
    }
    return ts;
  }
  BarAssembler a_;
  AssemblerOutput out_;
};

TEST_F(BarAssemblerTest, FinalOnXTrueWithItsValues) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100, 1), false, kT0 + 1000);
  update(0, make_bar(kT0, 101, 5), false, kT0 + 30'000);
  EXPECT_TRUE(out_.bars.empty());
  update(0, make_bar(kT0, 102, 7), true, kT0 + kIv + 100);
  ASSERT_EQ(out_.bars.size(), 1u);
  EXPECT_EQ(out_.bars[0].bar.close, 102);
  EXPECT_EQ(out_.bars[0].bar.volume, 7);
  EXPECT_EQ(out_.bars[0].bar.origin, BarOrigin::kStream);
  EXPECT_EQ(a_.next_ts(0), kT0 + kIv);
  EXPECT_TRUE(out_.requests.empty());
}

TEST(BarAssemblerLiteralTest, MissingXTrueFinalWhenLaterBarArrives) {
  BarAssembler a(1, BarAssemblerOptions{.interval_ms = kIv, .confirm_over_rest = false});
  AssemblerOutput out;
  a.start(0, kT0);
  a.on_update(0, make_bar(kT0, 100), false, kT0 + 1000, out);
  a.on_update(0, make_bar(kT0, 103, 9), false, kT0 + 59'000, out);
  EXPECT_TRUE(out.bars.empty());
  a.on_update(0, make_bar(kT0 + kIv, 104), false, kT0 + kIv + 500, out);
  ASSERT_EQ(out.bars.size(), 1u);
  EXPECT_EQ(out.bars[0].bar.ts, kT0);
  EXPECT_EQ(out.bars[0].bar.close, 103);  // the last update of that bar
  EXPECT_EQ(out.bars[0].bar.volume, 9);
  EXPECT_TRUE(out.requests.empty());
}

TEST_F(BarAssemblerTest, MissingXTrueConfirmedOverRestWhenLaterBarArrives) {
  a_.start(0, kT0);
  a_.start(1, kT0);
  for (uint32_t s = 0; s < 2; ++s) {
    update(s, make_bar(kT0, 103, 9), false, kT0 + 59'000);  // partial: the last trades are missing
    update(s, make_bar(kT0 + kIv, 104), false, kT0 + kIv + 500);
  }
  EXPECT_TRUE(out_.bars.empty());
  ASSERT_EQ(out_.requests.size(), 2u);
  EXPECT_EQ(out_.requests[0].from, kT0);
  EXPECT_EQ(out_.requests[0].to, kT0 + kIv);
  EXPECT_EQ(out_.requests[0].reason, FetchReason::kConfirm);
  // Symbol 0: REST has the final values.
  const Bar rest = make_bar(kT0, 103.5, 9.5, BarOrigin::kRest);
  a_.on_rest(0, kT0, kT0 + kIv, std::span<const Bar>(&rest, 1), kT0 + kIv + 600, out_);
  ASSERT_EQ(emitted_ts(0), std::vector<int64_t>{kT0});
  EXPECT_EQ(out_.bars[0].bar.close, 103.5);
  EXPECT_EQ(out_.bars[0].bar.origin, BarOrigin::kRest);
  // Symbol 1: the late x=true comes first and wins; REST lagging behind changes nothing.
  update(1, make_bar(kT0, 103.7, 9.7), true, kT0 + kIv + 700);
  ASSERT_EQ(emitted_ts(1), std::vector<int64_t>{kT0});
  EXPECT_EQ(out_.bars[1].bar.close, 103.7);
  a_.on_rest(1, kT0, kT0 + kIv, {}, kT0 + kIv + 800, out_);
  EXPECT_EQ(out_.bars.size(), 2u);
  EXPECT_EQ(a_.stats().real_gaps, 0u);
}

TEST_F(BarAssemblerTest, UnconfirmedBarKeepsStreamDataWhenRestLags) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 103, 9), false, kT0 + 59'000);
  update(0, make_bar(kT0 + kIv, 104), false, kT0 + kIv + 500);
  a_.on_rest(0, kT0, kT0 + kIv, {}, kT0 + kIv + 600, out_);  // REST has nothing yet
  ASSERT_EQ(out_.bars.size(), 1u);
  EXPECT_EQ(out_.bars[0].bar.close, 103);  // never a gap: the stream proved the bar exists
  EXPECT_EQ(out_.bars[0].bar.origin, BarOrigin::kStream);
  EXPECT_EQ(a_.stats().real_gaps, 0u);
}

TEST_F(BarAssemblerTest, DeadlineAsksRestAndRestAnswerIsFinal) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100), false, kT0 + 1000);
  a_.on_tick(kT0 + kIv + kBuffer - 1, out_);
  EXPECT_TRUE(out_.requests.empty());
  a_.on_tick(kT0 + kIv + kBuffer, out_);
  ASSERT_EQ(out_.requests.size(), 1u);
  EXPECT_EQ(out_.requests[0].symbol, 0u);
  EXPECT_EQ(out_.requests[0].from, kT0);
  EXPECT_EQ(out_.requests[0].to, kT0 + kIv);
  EXPECT_EQ(out_.requests[0].reason, FetchReason::kDeadline);
  auto asks_for_first = [this] {
    return std::count_if(out_.requests.begin(), out_.requests.end(),
                         [](const FetchRequest& r) { return r.symbol == 0 && r.from <= kT0 && kT0 < r.to; });
  };
  // Not asked again while that request waits for its answer, however long (the
  // later bars' deadlines pass meanwhile and are asked for on their own).
  a_.on_tick(kT0 + kIv + kBuffer + 5'000, out_);
  a_.on_tick(kT0 + kIv + kBuffer + 500'000, out_);
  EXPECT_EQ(asks_for_first(), 1);
  // It failed: asked again once the retry period has passed since the failure.
  a_.on_fetch_failed(0, kT0, kT0 + kIv, kT0 + kIv + kBuffer + 600'000);
  a_.on_tick(kT0 + kIv + kBuffer + 609'999, out_);
  EXPECT_EQ(asks_for_first(), 1);
  a_.on_tick(kT0 + kIv + kBuffer + 610'000, out_);
  EXPECT_EQ(asks_for_first(), 2);
  const Bar rest = make_bar(kT0, 100.5, 11, BarOrigin::kRest);
  a_.on_rest(0, kT0, kT0 + kIv, std::span<const Bar>(&rest, 1), kT0 + kIv + kBuffer + 611'000, out_);
  ASSERT_EQ(out_.bars.size(), 1u);
  EXPECT_EQ(out_.bars[0].bar.origin, BarOrigin::kRest);
  EXPECT_EQ(out_.bars[0].bar.close, 100.5);
  EXPECT_EQ(a_.stats().emitted_rest, 1u);
  // The stream's late x=true with other values is a revision, not a second bar.
  update(0, make_bar(kT0, 100.7), true, kT0 + kIv + kBuffer + 612'000);
  EXPECT_EQ(out_.bars.size(), 1u);
  EXPECT_EQ(a_.stats().revisions, 1u);
}

TEST_F(BarAssemblerTest, DuplicateDroppedRevisionLoggedFirstWins) {
  a_.start(0, kT0);
  const Bar b = make_bar(kT0, 100);
  update(0, b, true, kT0 + kIv);
  update(0, b, true, kT0 + kIv + 1);          // identical, after emission
  update(0, make_bar(kT0, 99), true, kT0 + kIv + 2);  // different, after emission
  ASSERT_EQ(out_.bars.size(), 1u);
  EXPECT_EQ(out_.bars[0].bar.close, 100);
  EXPECT_EQ(a_.stats().duplicates, 1u);
  EXPECT_EQ(a_.stats().revisions, 1u);
  // Final but held back (an earlier bar missing): duplicates and revisions too.
  update(0, make_bar(kT0 + 2 * kIv, 50), true, kT0 + 3 * kIv);
  update(0, make_bar(kT0 + 2 * kIv, 50), true, kT0 + 3 * kIv);
  update(0, make_bar(kT0 + 2 * kIv, 51), true, kT0 + 3 * kIv);
  update(0, make_bar(kT0 + 2 * kIv, 52), false, kT0 + 3 * kIv);  // partial after final: ignored
  EXPECT_EQ(a_.stats().duplicates, 2u);
  EXPECT_EQ(a_.stats().revisions, 2u);
  const Bar rest = make_bar(kT0 + kIv, 70, 1, BarOrigin::kRest);
  a_.on_rest(0, kT0 + kIv, kT0 + 2 * kIv, std::span<const Bar>(&rest, 1), kT0 + 3 * kIv, out_);
  ASSERT_EQ(out_.bars.size(), 3u);
  EXPECT_EQ(out_.bars[2].bar.close, 50);
}

TEST_F(BarAssemblerTest, GapDetectedByTsArithmeticAndFilledInOrder) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100), true, kT0 + kIv);
  update(0, make_bar(kT0 + 3 * kIv, 103), false, kT0 + 3 * kIv + 10);
  ASSERT_EQ(out_.requests.size(), 1u);
  EXPECT_EQ(out_.requests[0].from, kT0 + kIv);
  EXPECT_EQ(out_.requests[0].to, kT0 + 3 * kIv);
  EXPECT_EQ(out_.requests[0].reason, FetchReason::kGap);
  EXPECT_EQ(a_.stats().gaps_detected, 2u);
  update(0, make_bar(kT0 + 3 * kIv, 103), true, kT0 + 4 * kIv);
  update(0, make_bar(kT0 + 4 * kIv, 104), true, kT0 + 5 * kIv);
  EXPECT_EQ(emitted_ts(0), std::vector<int64_t>{kT0});  // later bars wait for the gap
  std::vector<Bar> rest{make_bar(kT0 + kIv, 101, 1, BarOrigin::kRest), make_bar(kT0 + 2 * kIv, 102, 1, BarOrigin::kRest)};
  a_.on_rest(0, kT0 + kIv, kT0 + 3 * kIv, rest, kT0 + 5 * kIv, out_);
  EXPECT_EQ(emitted_ts(0), (std::vector<int64_t>{kT0, kT0 + kIv, kT0 + 2 * kIv, kT0 + 3 * kIv, kT0 + 4 * kIv}));
  EXPECT_EQ(out_.bars[1].bar.origin, BarOrigin::kRest);
  EXPECT_EQ(out_.bars[3].bar.origin, BarOrigin::kStream);
}

TEST_F(BarAssemblerTest, RealGapWhenRestSkipsABarThatHasLaterBars) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100), true, kT0 + kIv);
  update(0, make_bar(kT0 + 3 * kIv, 103), true, kT0 + 4 * kIv);
  // REST answers only the second missing bar: the first does not exist.
  const Bar rest = make_bar(kT0 + 2 * kIv, 102, 1, BarOrigin::kRest);
  a_.on_rest(0, kT0 + kIv, kT0 + 3 * kIv, std::span<const Bar>(&rest, 1), kT0 + 4 * kIv, out_);
  EXPECT_EQ(emitted_ts(0), (std::vector<int64_t>{kT0, kT0 + 2 * kIv, kT0 + 3 * kIv}));
  EXPECT_EQ(a_.stats().real_gaps, 1u);
}

// One closed bar dated a day past the exchange's clock: held back, not final, and
// no bar before it called missing; the stream then goes on exactly as before.
TEST_F(BarAssemblerTest, AFutureDatedClosedBarIsHeldBackNotTrusted) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100), true, kT0 + kIv);
  const int64_t future = kT0 + 1440 * kIv;
  update(0, make_bar(future, 999), true, kT0 + kIv + 10);
  EXPECT_EQ(a_.stats().future_bars, 1u);
  EXPECT_TRUE(out_.requests.empty()) << "no bar before the future one may be asked for as missing";
  EXPECT_EQ(a_.stats().gaps_detected, 0u);
  EXPECT_EQ(a_.pending(0), 0u);
  for (int i = 1; i <= 3; ++i) update(0, make_bar(kT0 + i * kIv, 100 + i), true, kT0 + (i + 1) * kIv);
  EXPECT_EQ(emitted_ts(0), (std::vector<int64_t>{kT0, kT0 + kIv, kT0 + 2 * kIv, kT0 + 3 * kIv}));
  EXPECT_EQ(a_.stats().real_gaps, 0u);
  // When its time comes, the stream's own bar is the one that counts.
  update(0, make_bar(future, 55), true, future + kIv);
  EXPECT_EQ(a_.stats().future_bars, 1u);
}

// A REST answer never makes a bar that has not closed by exchange time a real gap,
// even when a later bar is known.
TEST_F(BarAssemblerTest, NoRealGapAtOrAfterTheExchangesCurrentTime) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100), true, kT0 + kIv);
  update(0, make_bar(kT0 + 3 * kIv, 103), true, kT0 + 4 * kIv);
  // Exchange time is inside bar kT0 + 2 iv: REST has bar kT0 + iv only.
  const Bar rest = make_bar(kT0 + kIv, 101, 1, BarOrigin::kRest);
  a_.on_rest(0, kT0 + kIv, kT0 + 3 * kIv, std::span<const Bar>(&rest, 1), kT0 + 2 * kIv + 5000, out_);
  EXPECT_EQ(a_.stats().real_gaps, 0u);
  EXPECT_EQ(emitted_ts(0), (std::vector<int64_t>{kT0, kT0 + kIv}));
}

TEST_F(BarAssemblerTest, EmptyRestAnswerWithoutLaterBarKeepsWaiting) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100), false, kT0 + 1000);
  a_.on_tick(kT0 + kIv + kBuffer, out_);
  ASSERT_EQ(out_.requests.size(), 1u);
  a_.on_rest(0, kT0, kT0 + kIv, {}, kT0 + kIv + kBuffer + 100, out_);
  EXPECT_TRUE(out_.bars.empty());
  EXPECT_EQ(a_.stats().real_gaps, 0u);
  EXPECT_EQ(a_.next_ts(0), kT0);  // never invented, never skipped
  a_.on_tick(kT0 + kIv + kBuffer + 10'099, out_);
  EXPECT_EQ(out_.requests.size(), 1u);  // the retry period counts from the answer
  a_.on_tick(kT0 + kIv + kBuffer + 10'100, out_);
  EXPECT_EQ(out_.requests.size(), 2u);  // asked again
}

// The live feed serves its fetches one at a time; when the queue takes longer than
// the retry period (hundreds of symbols after a reconnect, or a simulated clock
// running thousands of times faster than the wall), ticks must not add copies of
// requests still waiting: the queue would grow without bound and the feed stall.
TEST(BarAssemblerQueueTest, ARequestWaitingInTheQueueIsNotAskedAgain) {
  constexpr uint32_t kSymbols = 200;
  BarAssembler a(kSymbols, BarAssemblerOptions{.interval_ms = kIv, .buffer_ms = kBuffer, .retry_ms = 10'000});
  AssemblerOutput out;
  for (uint32_t s = 0; s < kSymbols; ++s) a.start(s, kT0);
  int64_t now = kT0 + 5 * kIv + 1000;
  a.on_reconnect(now, out);
  ASSERT_EQ(out.requests.size(), kSymbols);
  std::vector<FetchRequest> queue(out.requests.begin(), out.requests.end());
  out.clear();
  // One fetch served per 20 s of exchange time, a tick every second: 4,000 ticks.
  size_t served = 0;
  for (int i = 0; i < 4000; ++i) {
    now += 1000;
    a.on_tick(now, out);
    queue.insert(queue.end(), out.requests.begin(), out.requests.end());
    out.requests.clear();
    if (i % 20 == 19 && served < queue.size()) {
      const FetchRequest r = queue[served++];
      std::vector<Bar> bars;
      for (int64_t ts = r.from; ts < r.to; ts += kIv) bars.push_back(make_bar(ts, 100, 1, BarOrigin::kRest));
      a.on_rest(r.symbol, r.from, r.to, bars, now, out);
    }
  }
  // Every symbol's five bars, fetched once each: the ticks asked for the bars
  // that closed meanwhile (deadline requests), never again for those queued.
  std::map<uint32_t, std::set<int64_t>> asked;
  for (const FetchRequest& r : queue) {
    for (int64_t ts = r.from; ts < r.to; ts += kIv) {
      EXPECT_TRUE(asked[r.symbol].insert(ts).second) << "bar asked twice: symbol " << r.symbol << " ts " << ts;
    }
  }
  EXPECT_EQ(served, kSymbols);
  for (uint32_t s = 0; s < kSymbols; ++s) EXPECT_EQ(a.next_ts(s), kT0 + 5 * kIv) << s;
}

TEST_F(BarAssemblerTest, ReconnectBackfillsBeforeLiveBarsAndIgnoresStalePartials) {
  a_.start(0, kT0);
  update(0, make_bar(kT0, 100), true, kT0 + kIv);
  update(0, make_bar(kT0 + kIv, 1), false, kT0 + kIv + 1000);  // partial, then the socket dies
  const int64_t now = kT0 + 3 * kIv + 2000;                     // reconnected inside bar kT0+3iv
  a_.on_reconnect(now, out_);
  ASSERT_EQ(out_.requests.size(), 1u);
  EXPECT_EQ(out_.requests[0].from, kT0 + kIv);
  EXPECT_EQ(out_.requests[0].to, kT0 + 3 * kIv);
  EXPECT_EQ(out_.requests[0].reason, FetchReason::kReconnect);
  // Live bars after the reconnect do not finalise the stale partial and wait.
  update(0, make_bar(kT0 + 3 * kIv, 103), false, now + 10);
  update(0, make_bar(kT0 + 3 * kIv, 103), true, kT0 + 4 * kIv);
  EXPECT_EQ(emitted_ts(0), std::vector<int64_t>{kT0});
  std::vector<Bar> rest{make_bar(kT0 + kIv, 101, 1, BarOrigin::kRest), make_bar(kT0 + 2 * kIv, 102, 1, BarOrigin::kRest)};
  a_.on_rest(0, kT0 + kIv, kT0 + 3 * kIv, rest, kT0 + 4 * kIv, out_);
  EXPECT_EQ(emitted_ts(0), (std::vector<int64_t>{kT0, kT0 + kIv, kT0 + 2 * kIv, kT0 + 3 * kIv}));
  EXPECT_EQ(out_.bars[1].bar.close, 101);  // REST's version, not the stale partial
}

TEST_F(BarAssemblerTest, SymbolsAreIndependent) {
  a_.start(0, kT0);
  a_.start(1, kT0);
  update(0, make_bar(kT0 + kIv, 1), true, kT0 + 2 * kIv);  // symbol 0 misses kT0
  update(1, make_bar(kT0, 1), true, kT0 + kIv);
  update(1, make_bar(kT0 + kIv, 1), true, kT0 + 2 * kIv);
  EXPECT_TRUE(emitted_ts(0).empty());
  EXPECT_EQ(emitted_ts(1), (std::vector<int64_t>{kT0, kT0 + kIv}));
  ASSERT_EQ(out_.requests.size(), 1u);
  EXPECT_EQ(out_.requests[0].symbol, 0u);
}

TEST_F(BarAssemblerTest, OldUpdatesAreLate) {
  a_.start(0, kT0 + 100 * kIv);
  update(0, make_bar(kT0, 1), true, kT0 + 101 * kIv);
  EXPECT_TRUE(out_.bars.empty());
  EXPECT_EQ(a_.stats().late_updates, 1u);
}

TEST_F(BarAssemblerTest, LongRangesAreSplitIntoRequestsOfBoundedSize) {
  BarAssembler a(1, BarAssemblerOptions{.interval_ms = kIv, .buffer_ms = 0, .max_request_bars = 100});
  a.start(0, kT0);
  AssemblerOutput out;
  a.on_update(0, make_bar(kT0 + 250 * kIv, 1), false, kT0 + 250 * kIv, out);
  ASSERT_EQ(out.requests.size(), 3u);
  EXPECT_EQ(out.requests[0].from, kT0);
  EXPECT_EQ(out.requests[0].to, kT0 + 100 * kIv);
  EXPECT_EQ(out.requests[1].from, kT0 + 100 * kIv);
  EXPECT_EQ(out.requests[2].to, kT0 + 250 * kIv);
}

// A randomised stream with every fault at once (lost updates, lost x=true,
// duplicates, revisions, reconnects, real exchange gaps, slow REST) must come
// out as exactly the exchange's bars, in order, once each.
TEST(BarAssemblerRandomTest, FaultyStreamYieldsExactSeries) {
  BarAssemblerStats total;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u01(0, 1);
    constexpr int kSymbols = 3;
    constexpr int kBars = 300;
    // The exchange's truth; some bars do not exist (outage), never the first.
    std::vector<std::map<int64_t, Bar>> truth(kSymbols);
    for (int s = 0; s < kSymbols; ++s) {
      for (int i = 0; i < kBars; ++i) {
        if (i > 0 && u01(rng) < 0.02) continue;
        truth[s][kT0 + i * kIv] = make_bar(kT0 + i * kIv, 100 + s + i * 0.5 + u01(rng), 1 + u01(rng));
      }
    }
    BarAssembler a(kSymbols, BarAssemblerOptions{.interval_ms = kIv, .buffer_ms = kBuffer, .retry_ms = 20'000});
    for (int s = 0; s < kSymbols; ++s) a.start(s, kT0);
    AssemblerOutput out;
    std::vector<FetchRequest> queue;
    auto serve = [&](int64_t now, bool rest_up) {
      if (!rest_up) return;
      std::vector<FetchRequest> q;
      q.swap(queue);
      for (const auto& r : q) {
        std::vector<Bar> bars;
        for (auto it = truth[r.symbol].lower_bound(r.from); it != truth[r.symbol].end() && it->first < r.to; ++it) {
          if (it->first + kIv > now) break;  // REST never returns the open bar
          Bar b = it->second;
          b.origin = BarOrigin::kRest;
          bars.push_back(b);
        }
        a.on_rest(r.symbol, r.from, r.to, bars, now, out);
      }
    };
    for (int i = 0; i < kBars + 10; ++i) {
      const int64_t open = kT0 + i * kIv;
      const bool rest_up = u01(rng) > 0.1;
      // Which x=true messages get lost; the stream's last x=false of such a bar
      // carries the final values (as on Binance), so it must not be lost too.
      std::vector<bool> x_lost(kSymbols);
      for (int s = 0; s < kSymbols; ++s) x_lost[s] = u01(rng) < 0.2;
      if (u01(rng) < 0.03) a.on_reconnect(open + 1000, out);
      for (int step = 0; step < 4; ++step) {
        const int64_t now = open + step * 15'000 + 1;
        for (int s = 0; s < kSymbols; ++s) {
          auto it = truth[s].find(open);
          const bool last = step == 3;
          if (it == truth[s].end() || (u01(rng) < 0.1 && !(last && x_lost[s]))) continue;  // lost update
          Bar partial = it->second;
          if (!last) partial.close = partial.low + (partial.high - partial.low) * u01(rng), partial.volume *= 0.5;
          a.on_update(s, partial, false, now, out);
          if (u01(rng) < 0.05) a.on_update(s, partial, false, now, out);  // duplicate
        }
        a.on_tick(now, out);
        queue.insert(queue.end(), out.requests.begin(), out.requests.end());
        out.requests.clear();
        serve(now, rest_up);
      }
      // The close: x=true (sometimes lost, sometimes doubled, rarely revised later).
      for (int s = 0; s < kSymbols; ++s) {
        auto it = truth[s].find(open);
        if (it == truth[s].end() || x_lost[s]) continue;
        a.on_update(s, it->second, true, open + kIv + 200, out);
        if (u01(rng) < 0.1) a.on_update(s, it->second, true, open + kIv + 300, out);
        if (u01(rng) < 0.02) {
          Bar revised = it->second;
          revised.volume += 1;
          a.on_update(s, revised, true, open + kIv + 400, out);
        }
      }
    }
    // Drain: REST answers everything still asked.
    const int64_t end = kT0 + (kBars + 20) * kIv;
    for (int k = 0; k < 10; ++k) {
      a.on_tick(end + k * 30'000, out);
      queue.insert(queue.end(), out.requests.begin(), out.requests.end());
      out.requests.clear();
      serve(end + k * 30'000, true);
    }
    std::vector<std::vector<Bar>> got(kSymbols);
    for (const auto& f : out.bars) got[f.symbol].push_back(f.bar);
    for (int s = 0; s < kSymbols; ++s) {
      // Every bar the exchange has up to the last one that could be final.
      std::vector<Bar> want;
      for (const auto& [ts, b] : truth[s]) want.push_back(b);
      ASSERT_EQ(got[s].size(), want.size()) << "seed " << seed << " symbol " << s;
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_TRUE(got[s][i].same_values(want[i])) << "seed " << seed << " symbol " << s << " i " << i;
      }
    }
    total.duplicates += a.stats().duplicates;
    total.revisions += a.stats().revisions;
    total.real_gaps += a.stats().real_gaps;
    total.emitted_rest += a.stats().emitted_rest;
  }
  // The faults were really exercised.
  EXPECT_GT(total.duplicates, 0u);
  EXPECT_GT(total.revisions, 0u);
  EXPECT_GT(total.real_gaps, 0u);
  EXPECT_GT(total.emitted_rest, 0u);
}

}  // namespace
}  // namespace af::binance
