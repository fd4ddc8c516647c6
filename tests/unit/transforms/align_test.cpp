#include "transforms/align.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "collector.hpp"
#include "common/interval.hpp"

namespace af::transforms {
namespace {

constexpr int64_t H = kHourMs;

Bar bar_at(int64_t ts, double close) {
  Bar b;
  b.ts = ts;
  b.open = close - 1;
  b.high = close + 1;
  b.low = close - 2;
  b.close = close;
  b.volume = 5;
  b.quote_volume = 50;
  b.trades = 3;
  b.taker_buy_volume = 2;
  b.taker_buy_quote_volume = 20;
  b.origin = BarOrigin::kStream;
  return b;
}

struct Row {
  SymbolId s;
  int64_t ts;
  double close;
  bool filled;
};

std::vector<Row> rows(const test::Collector& c) {
  std::vector<Row> out;
  for (const auto& e : c.rows) out.push_back({e.symbol, e.bar.ts, e.bar.close, e.extra.at(0) == 1.0});
  return out;
}

bool operator==(const Row& a, const Row& b) {
  return a.s == b.s && a.ts == b.ts && a.close == b.close && a.filled == b.filled;
}

TEST(Align, FillsMissingRowsWhenTheNextTsBegins) {
  Align a(H, 3);
  test::Collector out;
  a.on_bar(0, bar_at(0, 10), out);
  a.on_bar(1, bar_at(0, 20), out);
  a.on_bar(0, bar_at(H, 11), out);  // symbol 1 has no bar at 1h (yet)
  EXPECT_EQ(out.rows.size(), 3u);
  a.on_bar(0, bar_at(2 * H, 12), out);  // 2h begins: symbol 1 gets its 1h row, filled
  a.on_bar(1, bar_at(2 * H, 22), out);
  a.on_bar(2, bar_at(2 * H, 30), out);  // symbol 2 starts: nothing to carry before
  // 3h: only symbol 2 trades; 4h: symbol 0 trades -> rows for 3h of symbols 0 and 1.
  a.on_bar(2, bar_at(3 * H, 31), out);
  a.on_bar(0, bar_at(4 * H, 14), out);
  const std::vector<Row> expected{
      {0, 0, 10, false},     {1, 0, 20, false},  {0, H, 11, false},     {1, H, 20, true},
      {0, 2 * H, 12, false}, {1, 2 * H, 22, false}, {2, 2 * H, 30, false}, {2, 3 * H, 31, false},
      {0, 3 * H, 12, true},  {1, 3 * H, 22, true},  {0, 4 * H, 14, false},
  };
  EXPECT_EQ(rows(out), expected);
  // Filled rows: OHLC = previous close, zero volumes, derived; real rows untouched.
  const Bar& f = out.rows[3].bar;
  EXPECT_EQ(f.open, 20);
  EXPECT_EQ(f.high, 20);
  EXPECT_EQ(f.low, 20);
  EXPECT_EQ(f.volume, 0);
  EXPECT_EQ(f.quote_volume, 0);
  EXPECT_EQ(f.trades, 0);
  EXPECT_EQ(f.taker_buy_volume, 0);
  EXPECT_EQ(f.taker_buy_quote_volume, 0);
  EXPECT_EQ(f.origin, BarOrigin::kDerived);
  EXPECT_TRUE(out.rows[0].bar.same_values(bar_at(0, 10)));
  EXPECT_EQ(out.rows[0].bar.origin, BarOrigin::kStream);
}

TEST(Align, OwnGapIsFilledBeforeTheRealBarAndLateBarsAreDropped) {
  Align a(H, 2);
  test::Collector out;
  a.on_bar(0, bar_at(0, 10), out);
  a.on_bar(0, bar_at(3 * H, 13), out);  // its own 1h and 2h rows come first
  a.on_bar(1, bar_at(0, 20), out);      // a newcomer behind the grid
  a.on_bar(0, bar_at(4 * H, 14), out);  // fills symbol 1 for 1h..3h
  a.on_bar(1, bar_at(2 * H, 99), out);  // its slot is already filled: dropped
  const std::vector<Row> expected{
      {0, 0, 10, false},  {0, H, 10, true},  {0, 2 * H, 10, true}, {0, 3 * H, 13, false}, {1, 0, 20, false},
      {1, H, 20, true},   {1, 2 * H, 20, true}, {1, 3 * H, 20, true}, {0, 4 * H, 14, false},
  };
  EXPECT_EQ(rows(out), expected);
}

// After reset(1), symbol 1 gets no filled rows until its next real bar, from which
// its grid starts anew; symbol 0 is filled as before.
TEST(Align, ResetSymbolIsUnseenUntilItsNextBar) {
  Align a(H, 2);
  test::Collector out;
  a.on_bar(0, bar_at(0, 10), out);
  a.on_bar(1, bar_at(0, 20), out);
  a.reset(1);
  a.on_bar(0, bar_at(3 * H, 13), out);  // fills symbol 0 only
  a.on_bar(1, bar_at(3 * H, 23), out);
  a.on_bar(0, bar_at(5 * H, 15), out);  // fills both at 4h
  const std::vector<Row> expected{
      {0, 0, 10, false},     {1, 0, 20, false},     {0, H, 10, true},      {0, 2 * H, 10, true},
      {0, 3 * H, 13, false}, {1, 3 * H, 23, false}, {0, 4 * H, 13, true},  {1, 4 * H, 23, true},
      {0, 5 * H, 15, false},
  };
  EXPECT_EQ(rows(out), expected);
}

// Random gaps over several symbols, bars delivered in ts order: every symbol has a
// row at every grid ts from its first bar to the last ts - interval, real rows are
// the input bars, filled rows carry the previous close.
TEST(Align, RandomGapsGiveAFullGrid) {
  const size_t n_sym = 5, steps = 400;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0, 1);
  Align a(H, n_sym);
  test::Collector out;
  std::map<std::pair<SymbolId, int64_t>, double> input;
  std::vector<int64_t> first(n_sym, -1);
  int64_t last_ts = 0;
  for (size_t i = 0; i < steps; ++i) {
    for (SymbolId s = 0; s < n_sym; ++s) {
      if (u(rng) < 0.3 + 0.1 * s) continue;
      const int64_t ts = static_cast<int64_t>(i) * H;
      const double c = 100 + u(rng);
      input[{s, ts}] = c;
      if (first[s] < 0) first[s] = ts;
      last_ts = ts;
      a.on_bar(s, bar_at(ts, c), out);
    }
  }
  std::vector<std::vector<Row>> per(n_sym);
  for (const auto& r : rows(out)) per[r.s].push_back(r);
  for (SymbolId s = 0; s < n_sym; ++s) {
    ASSERT_GE(first[s], 0);
    ASSERT_FALSE(per[s].empty());
    double prev_close = 0;
    for (size_t k = 0; k < per[s].size(); ++k) {
      const Row& r = per[s][k];
      ASSERT_EQ(r.ts, first[s] + static_cast<int64_t>(k) * H) << s;
      auto it = input.find({s, r.ts});
      if (it != input.end()) {
        ASSERT_FALSE(r.filled);
        ASSERT_EQ(r.close, it->second);
      } else {
        ASSERT_TRUE(r.filled);
        ASSERT_EQ(r.close, prev_close);
      }
      prev_close = r.close;
    }
    // Rows through last_ts - interval exist for every symbol; the last ts only for those that traded it.
    EXPECT_GE(per[s].back().ts, last_ts - H);
    EXPECT_EQ(per[s].back().ts == last_ts, input.count({s, last_ts}) == 1);
  }
}

TEST(Align, SaveLoadContinuesLikeUninterrupted) {
  std::vector<std::pair<SymbolId, Bar>> in;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 200; ++i)
    for (SymbolId s = 0; s < 3; ++s)
      if (u(rng) > 0.4) in.push_back({s, bar_at(i * H, 50 + u(rng))});
  Align whole(H, 3);
  test::Collector all;
  for (const auto& [s, b] : in) whole.on_bar(s, b, all);
  const size_t cut = in.size() / 2;
  Align first(H, 3);
  test::Collector out;
  for (size_t i = 0; i < cut; ++i) first.on_bar(in[i].first, in[i].second, out);
  StateWriter w;
  first.save(w);
  Align second(H, 3);
  StateReader r(w.bytes());
  ASSERT_TRUE(second.load(r));
  for (size_t i = cut; i < in.size(); ++i) second.on_bar(in[i].first, in[i].second, out);
  EXPECT_EQ(rows(out), rows(all));
  Align other(2 * H, 3);
  StateReader r2(w.bytes());
  EXPECT_FALSE(other.load(r2));
}

}  // namespace
}  // namespace af::transforms
