#include "synthetic/synthetic_market.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "common/interval.hpp"
#include "common/number_format.hpp"
#include "common/time.hpp"
#include "support/temp_dir.hpp"
#include "vision/vision_source.hpp"

namespace af::synthetic {
namespace {

int64_t iso(const char* s) { return *parse_iso8601(s); }

TEST(SyntheticMarket, DeterministicPerSeedAndSymbol) {
  SyntheticMarket a({"BTCUSDT", "FOOUSDT"}, 1);
  SyntheticMarket b({"FOOUSDT"}, 1);
  SyntheticMarket c({"FOOUSDT"}, 2);
  const int64_t from = iso("2024-01-01"), to = iso("2024-01-02");
  auto a1 = a.bars(1, kMinuteMs, from, to);
  auto b0 = b.bars(0, kMinuteMs, from, to);
  auto c0 = c.bars(0, kMinuteMs, from, to);
  ASSERT_EQ(a1.size(), 1440u);
  ASSERT_EQ(b0.size(), 1440u);
  for (size_t i = 0; i < a1.size(); ++i) ASSERT_TRUE(a1[i].same_values(b0[i]));
  EXPECT_FALSE(a1[100].same_values(c0[100]));
  // A longer request extends the same path.
  auto longer = b.bars(0, kMinuteMs, from, to + kDayMs);
  for (size_t i = 0; i < b0.size(); ++i) ASSERT_TRUE(longer[i].same_values(b0[i]));
}

TEST(SyntheticMarket, BarsArePlausible) {
  SyntheticMarket m({"BTCUSDT", "FOOUSDT", "BARUSDT"}, 7);
  for (size_t s = 0; s < 3; ++s) {
    auto bars = m.bars(s, kMinuteMs, iso("2024-01-01"), iso("2024-01-08"));
    ASSERT_EQ(bars.size(), 7u * 1440);
    double sum_sq = 0;
    for (size_t i = 0; i < bars.size(); ++i) {
      const Bar& b = bars[i];
      ASSERT_EQ(b.ts, iso("2024-01-01") + static_cast<int64_t>(i) * kMinuteMs);
      ASSERT_GT(b.low, 0);
      ASSERT_LE(b.low, std::min(b.open, b.close));
      ASSERT_GE(b.high, std::max(b.open, b.close));
      ASSERT_GT(b.volume, 0);
      ASSERT_GE(b.trades, 1);
      ASSERT_EQ(b.trades, std::floor(b.trades));
      ASSERT_LE(b.taker_buy_volume, b.volume);
      ASSERT_GE(b.quote_volume, b.volume * b.low * (1 - 1e-6));
      ASSERT_LE(b.quote_volume, b.volume * b.high * (1 + 1e-6));
      if (i > 0) {
        ASSERT_EQ(b.open, bars[i - 1].close);
        const double r = std::log(b.close / b.open);
        sum_sq += r * r;
      }
    }
    // Annualised volatility of 1m returns within a crypto-like band.
    const double annual = std::sqrt(sum_sq / static_cast<double>(bars.size() - 1) * 525600);
    EXPECT_GT(annual, 0.2) << s;
    EXPECT_LT(annual, 2.5) << s;
  }
}

TEST(SyntheticMarket, VolatilityClusters) {
  // |r| is autocorrelated under GARCH; an i.i.d. walk would give ~0.
  SyntheticMarket m({"FOOUSDT"}, 3);
  auto bars = m.bars(0, kMinuteMs, iso("2024-01-01"), iso("2024-01-15"));
  std::vector<double> a;
  for (const auto& b : bars) a.push_back(std::abs(std::log(b.close / b.open)));
  double mean = 0;
  for (double x : a) mean += x;
  mean /= static_cast<double>(a.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    den += (a[i] - mean) * (a[i] - mean);
    if (i > 0) num += (a[i] - mean) * (a[i - 1] - mean);
  }
  EXPECT_GT(num / den, 0.05);
}

TEST(SyntheticMarket, CoarseBarsAreTheAggregationOfMinuteBars) {
  SyntheticMarket m({"FOOUSDT"}, 9);
  // Different starts within one day describe the same market.
  const int64_t to = iso("2024-01-03");
  auto minutes = m.bars(0, kMinuteMs, iso("2024-01-01T00:37"), to);
  auto hours = m.bars(0, kHourMs, iso("2024-01-01T00:30"), to);  // from moves up to 01:00
  ASSERT_EQ(minutes.front().ts, iso("2024-01-01T00:37"));
  minutes.erase(minutes.begin(), minutes.begin() + 23);  // now from 01:00
  ASSERT_EQ(hours.size(), 47u);
  for (size_t h = 0; h < hours.size(); ++h) {
    const Bar& H = hours[h];
    EXPECT_EQ(H.ts, iso("2024-01-01T01:00") + static_cast<int64_t>(h) * kHourMs);
    double hi = -1, lo = 1e300, v = 0, q = 0, n = 0, tv = 0, tq = 0;
    for (size_t i = h * 60; i < h * 60 + 60; ++i) {
      hi = std::max(hi, minutes[i].high);
      lo = std::min(lo, minutes[i].low);
      v += minutes[i].volume;
      q += minutes[i].quote_volume;
      n += minutes[i].trades;
      tv += minutes[i].taker_buy_volume;
      tq += minutes[i].taker_buy_quote_volume;
    }
    EXPECT_EQ(H.open, minutes[h * 60].open);
    EXPECT_EQ(H.close, minutes[h * 60 + 59].close);
    EXPECT_EQ(H.high, hi);
    EXPECT_EQ(H.low, lo);
    // Quantities are decimal sums, as Binance aggregates them: the double sum of the
    // minutes up to its rounding error, and written in few decimals (90.377, never
    // 90.37700000000001, which the stream's fixed-decimal numbers could not carry).
    const auto on_grid = [](double x) {
      const std::string t = format_double(x);
      const auto dot = t.find('.');
      return dot == std::string::npos || t.size() - dot - 1 <= 8;
    };
    for (auto [got, sum] : {std::pair{H.volume, v}, std::pair{H.quote_volume, q}, std::pair{H.taker_buy_volume, tv},
                            std::pair{H.taker_buy_quote_volume, tq}}) {
      EXPECT_NEAR(got, sum, 1e-9 * std::max(1.0, std::abs(sum)));
      EXPECT_TRUE(on_grid(got)) << format_double(got);
    }
    EXPECT_EQ(H.trades, n);
  }
}

TEST(SyntheticMarket, MirrorReadsBackThroughVisionSource) {
  test::TempDir dir;
  const std::vector<std::string> syms{"AAAUSDT", "BBBUSDT"};
  const int64_t from = iso("2024-01-20"), to = iso("2024-02-10");
  ASSERT_TRUE(write_synthetic_mirror(dir.str(), syms, kHourMs, from, to, 5).ok());
  SyntheticMarket m(syms, 5);
  vision::VisionSource src(dir.str(), vision::VisionMarket::kFuturesUm, kHourMs);
  for (size_t s = 0; s < syms.size(); ++s) {
    auto expected = m.bars(s, kHourMs, from, to);
    auto got = src.history(syms[s], from, to);
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_EQ(got->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) ASSERT_TRUE((*got)[i].same_values(expected[i])) << i;
    auto e = src.earliest(syms[s]);
    ASSERT_TRUE(e.ok() && e->has_value());
    EXPECT_EQ(**e, from);
  }
}

TEST(SyntheticMarket, MirrorFilesAreReproducible) {
  test::TempDir a, b;
  const int64_t from = iso("2024-01-01"), to = iso("2024-01-03");
  ASSERT_TRUE(write_synthetic_mirror(a.str(), {"AAAUSDT"}, 15 * kMinuteMs, from, to, 3).ok());
  ASSERT_TRUE(write_synthetic_mirror(b.str(), {"AAAUSDT"}, 15 * kMinuteMs, from, to, 3).ok());
  const std::string rel = "data/futures/um/monthly/klines/AAAUSDT/15m/AAAUSDT-15m-2024-01.zip";
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string za = slurp(a / rel);
  ASSERT_FALSE(za.empty());
  EXPECT_EQ(za, slurp(b / rel));
  EXPECT_EQ(slurp(a / (rel + ".CHECKSUM")), slurp(b / (rel + ".CHECKSUM")));
}

}  // namespace
}  // namespace af::synthetic
