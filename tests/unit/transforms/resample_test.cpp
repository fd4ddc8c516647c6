#include "transforms/resample.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "collector.hpp"
#include "common/interval.hpp"

namespace af::transforms {
namespace {

struct Input {
  SymbolId symbol;
  Bar bar;
};

// Random bars for `symbols` symbols, every `interval` from `from` for `n` steps,
// each dropped with probability `drop` and whole runs dropped now and then;
// delivered interleaved in ts order.
std::vector<Input> random_inputs(size_t symbols, int64_t from, int64_t interval, size_t n, double drop, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> price(symbols, 100);
  std::vector<size_t> skip_until(symbols, 0);
  std::vector<Input> out;
  for (size_t i = 0; i < n; ++i) {
    for (SymbolId s = 0; s < symbols; ++s) {
      if (u(rng) < 0.002) skip_until[s] = i + 1 + static_cast<size_t>(u(rng) * 200);  // an outage
      if (i < skip_until[s] || u(rng) < drop) continue;
      Bar b;
      b.ts = from + static_cast<int64_t>(i) * interval;
      b.open = price[s];
      b.close = price[s] * (1 + (u(rng) - 0.5) / 100);
      b.high = std::max(b.open, b.close) * (1 + u(rng) / 200);
      b.low = std::min(b.open, b.close) * (1 - u(rng) / 200);
      b.volume = u(rng) * 1000;
      b.quote_volume = b.volume * b.close;
      b.trades = std::floor(u(rng) * 300);
      b.taker_buy_volume = b.volume * u(rng);
      b.taker_buy_quote_volume = b.taker_buy_volume * b.close;
      price[s] = b.close;
      out.push_back({s, b});
    }
  }
  return out;
}

struct Expected {
  Bar bar;
  size_t at_input;
};

// Naive reference: group each symbol's bars by bucket, then decide for each bucket
// when it is emitted (its last constituent, else the first bar of a later bucket,
// else never) and whether it is complete.
std::vector<std::vector<Expected>> naive(const std::vector<Input>& in, size_t symbols, int64_t input_ms,
                                         int64_t target_ms) {
  std::vector<std::vector<Expected>> out(symbols);
  for (SymbolId s = 0; s < symbols; ++s) {
    std::map<int64_t, std::vector<std::pair<size_t, Bar>>> buckets;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i].symbol != s) continue;
      const int64_t start = in[i].bar.ts - ((in[i].bar.ts % target_ms) + target_ms) % target_ms;
      buckets[start].push_back({i, in[i].bar});
    }
    for (auto it = buckets.begin(); it != buckets.end(); ++it) {
      const auto& rows = it->second;
      Bar a = rows.front().second;
      a.ts = it->first;
      for (size_t k = 1; k < rows.size(); ++k) {
        const Bar& b = rows[k].second;
        a.high = std::max(a.high, b.high);
        a.low = std::min(a.low, b.low);
        a.close = b.close;
        a.volume += b.volume;
        a.quote_volume += b.quote_volume;
        a.trades += b.trades;
        a.taker_buy_volume += b.taker_buy_volume;
        a.taker_buy_quote_volume += b.taker_buy_quote_volume;
      }
      a.origin = BarOrigin::kDerived;
      a.complete = static_cast<int64_t>(rows.size()) == target_ms / input_ms;
      size_t at;
      if (rows.back().second.ts == it->first + target_ms - input_ms) {
        at = rows.back().first;
      } else if (std::next(it) != buckets.end()) {
        at = std::next(it)->second.front().first;
      } else {
        continue;  // still open at the end of the input
      }
      out[s].push_back({a, at});
    }
  }
  return out;
}

void run_and_compare(size_t symbols, int64_t input_ms, int64_t target_ms, size_t n, double drop, uint64_t seed) {
  const auto in = random_inputs(symbols, 1700000000000 - 1700000000000 % kDayMs, input_ms, n, drop, seed);
  Resample r(input_ms, target_ms, symbols);
  test::Collector out;
  for (size_t i = 0; i < in.size(); ++i) {
    out.input_index = i;
    r.on_bar(in[i].symbol, in[i].bar, out);
  }
  const auto expected = naive(in, symbols, input_ms, target_ms);
  std::vector<std::vector<test::Emitted>> got(symbols);
  for (const auto& e : out.rows) {
    EXPECT_TRUE(e.extra.empty());
    got[e.symbol].push_back(e);
  }
  size_t incomplete = 0;
  for (SymbolId s = 0; s < symbols; ++s) {
    ASSERT_EQ(got[s].size(), expected[s].size()) << "symbol " << s;
    for (size_t k = 0; k < got[s].size(); ++k) {
      const Bar& g = got[s][k].bar;
      const Bar& x = expected[s][k].bar;
      ASSERT_TRUE(g.same_values(x)) << "symbol " << s << " bucket " << k;
      ASSERT_EQ(g.complete, x.complete) << "symbol " << s << " bucket " << k;
      ASSERT_EQ(g.origin, BarOrigin::kDerived);
      ASSERT_EQ(got[s][k].at_input, expected[s][k].at_input) << "symbol " << s << " bucket " << k;
      incomplete += x.complete ? 0 : 1;
    }
  }
  if (drop > 0 && target_ms > input_ms) {
    EXPECT_GT(incomplete, 0u);  // the gaps were exercised
  }
}

TEST(Resample, MatchesNaiveOneMinuteToOneHour) { run_and_compare(3, kMinuteMs, kHourMs, 3 * 1440, 0.0, 1); }
TEST(Resample, MatchesNaiveOneMinuteToOneHourWithGaps) { run_and_compare(3, kMinuteMs, kHourMs, 3 * 1440, 0.01, 2); }
TEST(Resample, MatchesNaiveFifteenMinutesToTwoHours) { run_and_compare(2, 15 * kMinuteMs, 2 * kHourMs, 2000, 0.0, 3); }
TEST(Resample, MatchesNaiveFifteenMinutesToTwoHoursWithGaps) {
  run_and_compare(4, 15 * kMinuteMs, 2 * kHourMs, 2000, 0.1, 4);
}
TEST(Resample, RatioOneIsAPassThrough) { run_and_compare(2, kHourMs, kHourMs, 500, 0.2, 5); }
TEST(Resample, OneMinuteToOneDayWithGaps) { run_and_compare(1, kMinuteMs, kDayMs, 5 * 1440, 0.3, 6); }

Bar bar_at(int64_t ts, double close) {
  Bar b;
  b.ts = ts;
  b.open = b.high = b.low = b.close = close;
  b.volume = 1;
  b.trades = 1;
  return b;
}

TEST(Resample, IncompleteBuckets) {
  const int64_t m15 = 15 * kMinuteMs;
  Resample r(m15, kHourMs, 1);
  test::Collector out;
  // 00:00, 00:15, 00:30 (00:45 missing): nothing until a later bucket begins.
  for (int i = 0; i < 3; ++i) r.on_bar(0, bar_at(i * m15, 10 + i), out);
  EXPECT_TRUE(out.rows.empty());
  r.on_bar(0, bar_at(kHourMs, 20), out);  // 01:00 starts the next bucket
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].bar.ts, 0);
  EXPECT_FALSE(out.rows[0].bar.complete);
  EXPECT_EQ(out.rows[0].bar.open, 10);
  EXPECT_EQ(out.rows[0].bar.close, 12);
  EXPECT_EQ(out.rows[0].bar.volume, 3);
  // 01:15, 01:30, 01:45: complete at 01:45.
  for (int i = 1; i < 4; ++i) r.on_bar(0, bar_at(kHourMs + i * m15, 20 + i), out);
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_TRUE(out.rows[1].bar.complete);
  EXPECT_EQ(out.rows[1].bar.ts, kHourMs);
  EXPECT_EQ(out.rows[1].bar.high, 23);
  EXPECT_EQ(out.rows[1].bar.trades, 4);
  // 03:00 and 03:45 (middle missing): emitted at its last constituent, incomplete.
  // The 02:00 bucket has no bar at all: never emitted.
  r.on_bar(0, bar_at(3 * kHourMs, 30), out);
  r.on_bar(0, bar_at(3 * kHourMs + 3 * m15, 31), out);
  ASSERT_EQ(out.rows.size(), 3u);
  EXPECT_EQ(out.rows[2].bar.ts, 3 * kHourMs);
  EXPECT_FALSE(out.rows[2].bar.complete);
  EXPECT_EQ(out.rows[2].bar.volume, 2);
}

TEST(Resample, IncompleteInputMakesIncompleteOutput) {
  Resample r(kHourMs, 2 * kHourMs, 1);
  test::Collector out;
  Bar a = bar_at(0, 1);
  a.complete = false;
  r.on_bar(0, a, out);
  r.on_bar(0, bar_at(kHourMs, 2), out);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_FALSE(out.rows[0].bar.complete);
}

TEST(Resample, OutOfOrderAndDuplicateBarsAreDropped) {
  Resample r(kHourMs, 2 * kHourMs, 1);
  test::Collector out;
  r.on_bar(0, bar_at(2 * kHourMs, 1), out);
  r.on_bar(0, bar_at(2 * kHourMs, 5), out);  // duplicate ts
  r.on_bar(0, bar_at(0, 7), out);            // older
  r.on_bar(0, bar_at(3 * kHourMs, 2), out);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_TRUE(out.rows[0].bar.complete);
  EXPECT_EQ(out.rows[0].bar.high, 2);
  EXPECT_EQ(out.rows[0].bar.volume, 2);
}

// reset drops symbol 0's open bucket without emitting it; its next bar starts a
// bucket as a first bar would. Symbol 1's open bucket is kept.
TEST(Resample, ResetForgetsOneSymbolsOpenBucket) {
  const int64_t m15 = 15 * kMinuteMs;
  Resample r(m15, kHourMs, 2);
  test::Collector out;
  r.on_bar(0, bar_at(0, 10), out);
  r.on_bar(0, bar_at(m15, 11), out);
  r.on_bar(1, bar_at(0, 50), out);
  r.reset(0);
  EXPECT_TRUE(out.rows.empty());
  r.on_bar(0, bar_at(3 * m15, 13), out);  // alone in its bucket now: emitted at once, incomplete
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].symbol, 0u);
  EXPECT_EQ(out.rows[0].bar.open, 13);
  EXPECT_EQ(out.rows[0].bar.volume, 1);
  EXPECT_FALSE(out.rows[0].bar.complete);
  r.on_bar(1, bar_at(3 * m15, 53), out);
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[1].symbol, 1u);
  EXPECT_EQ(out.rows[1].bar.open, 50);
  EXPECT_EQ(out.rows[1].bar.volume, 2);
}

TEST(Resample, SaveLoadContinuesLikeUninterrupted) {
  const auto in = random_inputs(3, 0, kMinuteMs, 1000, 0.05, 9);
  Resample whole(kMinuteMs, kHourMs, 3);
  test::Collector all;
  for (const auto& x : in) whole.on_bar(x.symbol, x.bar, all);

  for (size_t cut : {size_t{1}, in.size() / 3, in.size() / 2 + 7}) {
    Resample first(kMinuteMs, kHourMs, 3);
    test::Collector out;
    for (size_t i = 0; i < cut; ++i) first.on_bar(in[i].symbol, in[i].bar, out);
    StateWriter w;
    first.save(w);
    Resample second(kMinuteMs, kHourMs, 3);
    StateReader rd(w.bytes());
    ASSERT_TRUE(second.load(rd));
    EXPECT_TRUE(rd.at_end());
    for (size_t i = cut; i < in.size(); ++i) second.on_bar(in[i].symbol, in[i].bar, out);
    ASSERT_EQ(out.rows.size(), all.rows.size());
    for (size_t k = 0; k < out.rows.size(); ++k) {
      ASSERT_EQ(out.rows[k].symbol, all.rows[k].symbol);
      ASSERT_TRUE(out.rows[k].bar.same_values(all.rows[k].bar));
      ASSERT_EQ(out.rows[k].bar.complete, all.rows[k].bar.complete);
    }
  }
}

TEST(Resample, LoadRejectsOtherIntervalsAndTruncatedState) {
  Resample a(kMinuteMs, kHourMs, 2);
  StateWriter w;
  a.save(w);
  Resample b(kMinuteMs, 2 * kHourMs, 2);
  StateReader r1(w.bytes());
  EXPECT_FALSE(b.load(r1));
  Resample c(kMinuteMs, kHourMs, 2);
  StateReader r2(std::string_view(w.bytes()).substr(0, w.bytes().size() - 3));
  EXPECT_FALSE(c.load(r2));
}

}  // namespace
}  // namespace af::transforms
