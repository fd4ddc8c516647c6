#include "vision/vision_csv.hpp"

#include <gtest/gtest.h>

namespace af::vision {
namespace {

constexpr const char* kHeader =
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,"
    "ignore";
constexpr const char* kRow1 =
    "1704067200000,42314.00,42335.80,42289.60,42331.90,289.641,1704067259999,12256155.25625,3310,175.211,"
    "7414459.86355,0";
constexpr const char* kRow2 =
    "1704067260000,42331.90,42353.10,42331.80,42350.40,202.444,1704067319999,8572240.95470,1885,154.353,"
    "6535804.80720,0";

void expect_row1(const Bar& b) {
  EXPECT_EQ(b.ts, 1704067200000);
  EXPECT_EQ(b.open, 42314.00);
  EXPECT_EQ(b.high, 42335.80);
  EXPECT_EQ(b.low, 42289.60);
  EXPECT_EQ(b.close, 42331.90);
  EXPECT_EQ(b.volume, 289.641);
  EXPECT_EQ(b.quote_volume, 12256155.25625);
  EXPECT_EQ(b.trades, 3310);
  EXPECT_EQ(b.taker_buy_volume, 175.211);
  EXPECT_EQ(b.taker_buy_quote_volume, 7414459.86355);
  EXPECT_EQ(b.origin, BarOrigin::kArchive);
  EXPECT_TRUE(b.complete);
}

TEST(VisionCsv, FuturesDialectWithHeader) {
  const std::string text = std::string(kHeader) + "\n" + kRow1 + "\n" + kRow2 + "\n";
  auto bars = parse_vision_csv(text, "f.csv");
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 2u);
  expect_row1((*bars)[0]);
  EXPECT_EQ((*bars)[1].ts, 1704067260000);
  EXPECT_EQ((*bars)[1].close, 42350.40);
}

TEST(VisionCsv, SpotDialectWithoutHeaderCrlfNoTrailingNewline) {
  const std::string text = std::string(kRow1) + "\r\n" + kRow2;
  auto bars = parse_vision_csv(text, "s.csv");
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 2u);
  expect_row1((*bars)[0]);
  EXPECT_EQ((*bars)[1].taker_buy_quote_volume, 6535804.80720);
}

TEST(VisionCsv, HeaderWithCrlf) {
  const std::string text = std::string(kHeader) + "\r\n" + kRow1 + "\r\n";
  auto bars = parse_vision_csv(text, "s.csv");
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 1u);
  expect_row1((*bars)[0]);
}

TEST(VisionCsv, MicrosecondTimestampsAreConverted) {
  // A real spot row of 2025-01-01 (16-digit open_time) next to a ms row.
  const std::string text =
      "1735603200000,92792.05000000,96250.00000000,92033.73000000,93576.00000000,19612.03389000,1735689599999,"
      "1845718801.92270400,3347847,9687.96775000,911716321.60540200,0\n"
      "1735689600000000,93576.00000000,95151.15000000,92888.00000000,94591.79000000,10373.32613000,"
      "1735775999999999,975444194.13799830,1516556,5347.73648000,502914035.64059070,0\n";
  auto bars = parse_vision_csv(text, "s.csv");
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 2u);
  EXPECT_EQ((*bars)[0].ts, 1735603200000);
  EXPECT_EQ((*bars)[1].ts, 1735689600000);
  EXPECT_EQ((*bars)[1].open, 93576.0);
  EXPECT_EQ((*bars)[1].quote_volume, 975444194.13799830);
  EXPECT_EQ((*bars)[1].trades, 1516556);
}

TEST(VisionCsv, EmptyAndHeaderOnly) {
  auto a = parse_vision_csv("", "x.csv");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
  auto b = parse_vision_csv(std::string(kHeader) + "\n", "x.csv");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
}

TEST(VisionCsv, WrongFieldCountNamesTheLine) {
  const std::string text = std::string(kHeader) + "\n" + kRow1 + "\n1704067260000,1,2\n";
  auto bars = parse_vision_csv(text, "BTCUSDT-1h-2024-01.zip:BTCUSDT-1h-2024-01.csv");
  ASSERT_FALSE(bars.ok());
  EXPECT_EQ(bars.error().message, "BTCUSDT-1h-2024-01.zip:BTCUSDT-1h-2024-01.csv:3: expected 12 fields, got 3");
}

TEST(VisionCsv, TooManyFields) {
  auto bars = parse_vision_csv(std::string(kRow1) + ",7\n", "x.csv");
  ASSERT_FALSE(bars.ok());
  EXPECT_EQ(bars.error().message, "x.csv:1: expected 12 fields, got 13");
}

TEST(VisionCsv, NonNumericFieldNamesFieldAndValue) {
  const std::string bad =
      "1704067260000,42331.90,42353.10,42331.80,abc,202.444,1704067319999,8572240.95470,1885,154.353,"
      "6535804.80720,0";
  auto bars = parse_vision_csv(std::string(kRow1) + "\n" + bad + "\n", "BTCUSDT-1h-2024-01.zip:BTCUSDT-1h-2024-01.csv");
  ASSERT_FALSE(bars.ok());
  EXPECT_EQ(bars.error().message,
            "BTCUSDT-1h-2024-01.zip:BTCUSDT-1h-2024-01.csv:2: field 'close' is not a number: 'abc'");
}

TEST(VisionCsv, PartlyNumericAndEmptyFieldsAreRejected) {
  std::string row = kRow1;
  row.replace(row.find("289.641"), 7, "289.6x1");
  auto a = parse_vision_csv(row, "x.csv");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, "x.csv:1: field 'volume' is not a number: '289.6x1'");

  std::string row2 = kRow1;
  row2.replace(row2.find(",3310,"), 6, ",,");
  auto b = parse_vision_csv(row2, "x.csv");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "x.csv:1: field 'count' is not a number: ''");
}

TEST(VisionCsv, BadTimestampAfterHeaderLine) {
  // Only the first line may be a header; a word later is an error.
  const std::string text = std::string(kRow1) + "\n" + kHeader + "\n";
  auto bars = parse_vision_csv(text, "x.csv");
  ASSERT_FALSE(bars.ok());
  EXPECT_EQ(bars.error().message, "x.csv:2: field 'open_time' is not a number: 'open_time'");
}

}  // namespace
}  // namespace af::vision
