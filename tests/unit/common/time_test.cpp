#include <gtest/gtest.h>

#include <cstdlib>

#include "common/interval.hpp"
#include "common/number_format.hpp"
#include "common/time.hpp"

namespace af {
namespace {

TEST(Time, FormatsIso8601Utc) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso8601(1766754000000), "2025-12-26T13:00:00Z");
  EXPECT_EQ(format_iso8601(1766754000250), "2025-12-26T13:00:00.250Z");
  EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Time, ParsesDatesAndTimes) {
  EXPECT_EQ(parse_iso8601("2025-12-26"), 1766707200000);
  EXPECT_EQ(parse_iso8601("2025-12-26T13:00:00Z"), 1766754000000);
  EXPECT_EQ(parse_iso8601("2025-12-26 13:00"), 1766754000000);
  EXPECT_EQ(parse_iso8601("2025-12-26T13:00:00.5+00:00"), 1766754000500);
  EXPECT_EQ(parse_iso8601("2024-02-29"), 1709164800000);
  EXPECT_FALSE(parse_iso8601("2023-02-29"));
  EXPECT_FALSE(parse_iso8601("2025-13-01"));
  EXPECT_FALSE(parse_iso8601("2025-12-26T25:00"));
  EXPECT_FALSE(parse_iso8601("2025-12-26T13:00:00+02:00"));
  EXPECT_FALSE(parse_iso8601("yesterday"));
}

TEST(Time, RoundTripsEveryHourOfAYear) {
  for (int64_t t = 1704067200000; t < 1735689600000; t += 3'600'000) EXPECT_EQ(parse_iso8601(format_iso8601(t)), t);
}

TEST(Interval, BinanceSetAndBuckets) {
  EXPECT_EQ(parse_interval("15m"), 900000);
  EXPECT_EQ(parse_interval("1d"), 86400000);
  EXPECT_FALSE(parse_interval("1w"));
  EXPECT_FALSE(parse_interval("7m"));
  EXPECT_EQ(interval_name(7'200'000), "2h");
  EXPECT_EQ(bucket_start(1766754000000 + 5 * 60'000, 7'200'000), 1766750400000);
  EXPECT_EQ(bucket_start(-1, 60'000), -60'000);
}

// Resample targets (issue 16 item 3): pandas' spellings and any length dividing a day.
TEST(Interval, FrequencyInBinanceAndPandasSpellings) {
  for (const char* two_hours : {"2h", "2H", "120min", "120T", "120m", "7200s", "7200S"})
    EXPECT_EQ(parse_frequency(two_hours), 7'200'000) << two_hours;
  EXPECT_EQ(parse_frequency("1D"), 86'400'000);
  EXPECT_EQ(parse_frequency("1d"), 86'400'000);
  EXPECT_EQ(parse_frequency("3h"), 10'800'000);
  EXPECT_EQ(parse_frequency("45m"), 2'700'000);
  EXPECT_EQ(parse_frequency("15m"), 900'000);
  // Not dividing a day, zero, a month, a week, no count, too many digits, junk.
  for (const char* bad : {"7h", "25h", "2D", "0h", "0", "2M", "1w", "h", "", "100000s", "99999999999999999999h",
                          "2 h", "-2h", "2hh", "1.5h"})
    EXPECT_FALSE(parse_frequency(bad)) << bad;
  EXPECT_EQ(interval_name(10'800'000), "3h");
  EXPECT_EQ(interval_name(2'700'000), "45m");
  EXPECT_EQ(interval_name(90'000), "90s");
  EXPECT_EQ(interval_name(1'500), "1500ms");
}

TEST(NumberFormat, ShortestRoundTrip) {
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1e-300), "1e-300");
  EXPECT_EQ(format_double(42), "42");
  for (double v : {0.1 + 0.2, 1.0 / 3, -2.5e17, 123456.789}) EXPECT_EQ(std::stod(format_double(v)), v);
}

}  // namespace
}  // namespace af

namespace af {
namespace {

TEST(Time, CoarseClockTracksThePreciseOne) {
  const int64_t precise = now_ms();
  const int64_t coarse = coarse_now_ms();
  EXPECT_LE(std::llabs(coarse - precise), 50);  // a tick is 1-10 ms
}

}  // namespace
}  // namespace af
