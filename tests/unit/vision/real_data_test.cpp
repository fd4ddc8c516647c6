// Tests on the real reference data in $AF_SHARED_DIR/data (skipped when absent).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_csv.hpp"
#include "vision/vision_source.hpp"

namespace af::vision {
namespace {

std::string shared_data() {
  const char* s = std::getenv("AF_SHARED_DIR");
  if (s == nullptr) return {};
  const std::string d = std::string(s) + "/data";
  return std::filesystem::exists(d + "/binance-vision") ? d : std::string();
}

#define REQUIRE_SHARED_DATA(var)                                          \
  const std::string var = shared_data();                                  \
  if (var.empty()) GTEST_SKIP() << "no $AF_SHARED_DIR/data (reference data absent)"

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RealData, FilUsdt1h2023_09) {
  REQUIRE_SHARED_DATA(data);
  const std::string zip =
      data + "/binance-vision/data/futures/um/monthly/klines/FILUSDT/1h/FILUSDT-1h-2023-09.zip";
  auto bars = read_vision_archive(zip);
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 720u);
  // First row as the CSV text has it:
  // 1693526400000,3.214,3.233,3.206,3.224,951395.3,1693529999999,3066070.1819,8834,435344.5,1402900.1614,0
  auto csv = read_vision_zip(zip);
  ASSERT_TRUE(csv.ok());
  ASSERT_NE(csv->text.find("\n1693526400000,3.214,3.233,3.206,3.224,951395.3,1693529999999,3066070.1819,8834,"
                           "435344.5,1402900.1614,0\n"),
            std::string::npos);
  const Bar& b = bars->front();
  EXPECT_EQ(b.ts, 1693526400000);
  EXPECT_EQ(b.open, 3.214);
  EXPECT_EQ(b.high, 3.233);
  EXPECT_EQ(b.low, 3.206);
  EXPECT_EQ(b.close, 3.224);
  EXPECT_EQ(b.volume, 951395.3);
  EXPECT_EQ(b.quote_volume, 3066070.1819);
  EXPECT_EQ(b.trades, 8834);
  EXPECT_EQ(b.taker_buy_volume, 435344.5);
  EXPECT_EQ(b.taker_buy_quote_volume, 1402900.1614);
  for (size_t i = 1; i < bars->size(); ++i) ASSERT_EQ((*bars)[i].ts - (*bars)[i - 1].ts, kHourMs);
}

TEST(RealData, VisionSourceThreeMonths) {
  REQUIRE_SHARED_DATA(data);
  VisionSource src(data + "/binance-vision", VisionMarket::kFuturesUm, kHourMs);
  const int64_t from = *parse_iso8601("2023-08-01"), to = *parse_iso8601("2023-11-01");
  auto bars = src.history("NEARUSDT", from, to);
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 92u * 24);
  EXPECT_EQ(bars->front().ts, from);
  EXPECT_EQ(bars->back().ts, to - kHourMs);
  auto e = src.earliest("NEARUSDT");
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ(**e, from);
  // Every file of the mirror matches its .CHECKSUM (read_vision_zip verifies it).
  auto part = src.history("FILUSDT", *parse_iso8601("2026-02-10"), *parse_iso8601("2026-02-11"));
  ASSERT_TRUE(part.ok()) << part.error().message;
  EXPECT_EQ(part->size(), 24u);
}

TEST(RealData, SampleMicrosecondRows) {
  REQUIRE_SHARED_DATA(data);
  std::string text;
  std::istringstream in(slurp(data + "/samples/spot_vision_microsecond_rows.csv"));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') text += line + "\n";  // '#' lines are the sample's own notes
  }
  auto bars = parse_vision_csv(text, "spot_vision_microsecond_rows.csv");
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 7u);
  EXPECT_EQ((*bars)[0].ts, 1735689600000);  // DOGEUSDT 1s, 2025-01-01T00:00:00
  EXPECT_EQ((*bars)[1].ts, 1735689601000);
  EXPECT_EQ((*bars)[1].quote_volume, 5.37217);
  EXPECT_EQ((*bars)[3].ts, 1735603200000);  // the last ms row of 2024-12
  EXPECT_EQ((*bars)[4].ts, 1735689600000);  // first µs row of 2025-01
  EXPECT_EQ((*bars)[3].close, (*bars)[4].open);
  EXPECT_EQ((*bars)[5].ts, 1738281600000);
  EXPECT_EQ((*bars)[6].trades, 2631);
}

TEST(RealData, SampleFuturesAndSpotFiles) {
  REQUIRE_SHARED_DATA(data);
  auto fut = parse_vision_csv(slurp(data + "/samples/futures_um_BTCUSDT-1m-2024-01_first120.csv"), "fut.csv");
  ASSERT_TRUE(fut.ok()) << fut.error().message;
  ASSERT_EQ(fut->size(), 120u);
  EXPECT_EQ(fut->front().ts, 1704067200000);
  EXPECT_EQ(fut->back().ts, 1704067200000 + 119 * kMinuteMs);
  auto spot = parse_vision_csv(slurp(data + "/samples/spot_vision_ADABTC-1m-2021-11-27_head10.csv"), "spot.csv");
  ASSERT_TRUE(spot.ok()) << spot.error().message;
  ASSERT_EQ(spot->size(), 10u);
  EXPECT_EQ(spot->front().ts, 1637971200000);
  EXPECT_EQ(spot->front().open, 0.00002853);
  EXPECT_EQ(spot->front().volume, 36304.2);
}

}  // namespace
}  // namespace af::vision
