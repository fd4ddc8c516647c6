#include "vision/vision_source.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "bar_gen.hpp"
#include "common/interval.hpp"
#include "common/time.hpp"
#include "support/temp_dir.hpp"
#include "vision/vision_writer.hpp"

namespace af::vision {
namespace {

int64_t iso(const char* s) { return *parse_iso8601(s); }

std::vector<Bar> slice(const std::vector<Bar>& all, int64_t from, int64_t to) {
  std::vector<Bar> out;
  for (const auto& b : all)
    if (b.ts >= from && b.ts < to) out.push_back(b);
  return out;
}

void write(const std::string& root, const VisionPeriod& p, const std::vector<Bar>& bars,
           VisionWriteOptions o = futures_dialect()) {
  auto r = write_vision_file(root, "ABCUSDT", kHourMs, p, bars, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

// 2024-01-01 .. 2024-02-05 hourly, as one truth the files are cut from.
class VisionSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    truth_ = test::random_bars(iso("2024-01-01"), kHourMs, 35 * 24, 11);
    write(dir_.str(), {2024, 1, 0}, slice(truth_, iso("2024-01-01"), iso("2024-02-01")));
    // Daily files for Feb 1, 2 and 4 (Feb 3 is a real gap).
    for (unsigned d : {1u, 2u, 4u}) {
      const VisionPeriod p{2024, 2, d};
      write(dir_.str(), p, slice(truth_, p.start_ms(), p.end_ms()));
    }
    // A daily file inside the monthly file's month with different values: ignored.
    auto other = test::random_bars(iso("2024-01-15"), kHourMs, 24, 99);
    write(dir_.str(), {2024, 1, 15}, other);
  }
  test::TempDir dir_;
  std::vector<Bar> truth_;
};

TEST_F(VisionSourceTest, MonthlyPlusDailyMergeWithGap) {
  VisionSource src(dir_.str(), VisionMarket::kFuturesUm, kHourMs);
  auto bars = src.history("ABCUSDT", iso("2024-01-01"), iso("2024-03-01"));
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  std::vector<Bar> expected = slice(truth_, iso("2024-01-01"), iso("2024-02-03"));
  for (auto& b : slice(truth_, iso("2024-02-04"), iso("2024-02-05"))) expected.push_back(b);
  ASSERT_EQ(bars->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_TRUE((*bars)[i].same_values(expected[i])) << i;
    ASSERT_EQ((*bars)[i].origin, BarOrigin::kArchive);
  }
}

TEST_F(VisionSourceTest, RangeIsHalfOpenAcrossFiles) {
  VisionSource src(dir_.str(), VisionMarket::kFuturesUm, kHourMs);
  auto bars = src.history("ABCUSDT", iso("2024-01-31T22:00"), iso("2024-02-01T02:00"));
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 4u);
  EXPECT_EQ(bars->front().ts, iso("2024-01-31T22:00"));
  EXPECT_EQ(bars->back().ts, iso("2024-02-01T01:00"));
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE((*bars)[i].same_values(slice(truth_, iso("2024-01-31T22:00"), iso("2024-02-01T02:00"))[i]));

  auto none = src.history("ABCUSDT", iso("2024-02-03"), iso("2024-02-04"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto before = src.history("ABCUSDT", iso("2020-01-01"), iso("2020-02-01"));
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->empty());
}

TEST_F(VisionSourceTest, Earliest) {
  VisionSource src(dir_.str(), VisionMarket::kFuturesUm, kHourMs);
  auto e = src.earliest("ABCUSDT");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ(**e, iso("2024-01-01"));
  auto none = src.earliest("NOPE");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(VisionSourceTest, UnknownSymbolNamesTheDirectory) {
  VisionSource src(dir_.str(), VisionMarket::kFuturesUm, kHourMs);
  auto bars = src.history("NOPEUSDT", iso("2024-01-01"), iso("2024-02-01"));
  ASSERT_FALSE(bars.ok());
  EXPECT_EQ(bars.error().message, "no 1h kline files for NOPEUSDT in " + dir_.str() +
                                      "/data/futures/um/monthly/klines/NOPEUSDT/1h or " + dir_.str() +
                                      "/data/futures/um/daily/klines/NOPEUSDT/1h");
  // The spot market of the same mirror holds nothing.
  VisionSource spot(dir_.str(), VisionMarket::kSpot, kHourMs);
  EXPECT_FALSE(spot.history("ABCUSDT", iso("2024-01-01"), iso("2024-02-01")).ok());
}

TEST_F(VisionSourceTest, DataFolderAsRoot) {
  VisionSource src(dir_ / "data", VisionMarket::kFuturesUm, kHourMs);
  auto bars = src.history("ABCUSDT", iso("2024-01-01"), iso("2024-01-02"));
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  EXPECT_EQ(bars->size(), 24u);
}

TEST_F(VisionSourceTest, ChecksumMismatchFailsHistory) {
  const std::string zip = dir_ / "data/futures/um/daily/klines/ABCUSDT/1h/ABCUSDT-1h-2024-02-02.zip";
  std::ofstream(zip + ".CHECKSUM", std::ios::trunc) << std::string(64, 'a') << "  ABCUSDT-1h-2024-02-02.zip\n";
  VisionSource src(dir_.str(), VisionMarket::kFuturesUm, kHourMs);
  auto bars = src.history("ABCUSDT", iso("2024-02-01"), iso("2024-02-05"));
  ASSERT_FALSE(bars.ok());
  EXPECT_EQ(bars.error().message.rfind(zip + ": checksum mismatch", 0), 0u) << bars.error().message;
  // A range that does not touch the bad file still reads.
  EXPECT_TRUE(src.history("ABCUSDT", iso("2024-02-04"), iso("2024-02-05")).ok());
}

// The same ts in a monthly and a daily file: identical -> one row; different ->
// the monthly (first) row.
TEST(VisionSource, DuplicatesAcrossFiles) {
  test::TempDir dir;
  auto truth = test::random_bars(iso("2024-03-01"), kHourMs, 31 * 24 + 24, 5);
  // The March file carries two stray rows of April 1 (00:00 and 01:00).
  write(dir.str(), {2024, 3, 0}, slice(truth, iso("2024-03-01"), iso("2024-04-01T02:00")));
  auto april1 = slice(truth, iso("2024-04-01"), iso("2024-04-02"));
  april1[1].close *= 1.01;  // 01:00 differs
  write(dir.str(), {2024, 4, 1}, april1);
  VisionSource src(dir.str(), VisionMarket::kFuturesUm, kHourMs);
  auto bars = src.history("ABCUSDT", iso("2024-03-31T23:00"), iso("2024-04-01T03:00"));
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*bars)[i].ts, iso("2024-03-31T23:00") + static_cast<int64_t>(i) * kHourMs);
  EXPECT_TRUE((*bars)[2].same_values(truth[31 * 24 + 1]));
  EXPECT_FALSE((*bars)[2].same_values(april1[1]));
}

TEST(VisionSource, SpotMicrosecondFiles) {
  test::TempDir dir;
  auto truth = test::random_bars(iso("2025-01-01"), kHourMs, 31 * 24, 8);
  VisionWriteOptions o = spot_dialect();
  o.microseconds = true;
  write(dir.str(), {2025, 1, 0}, truth, o);
  VisionSource src(dir.str(), VisionMarket::kSpot, kHourMs);
  auto bars = src.history("ABCUSDT", iso("2025-01-01"), iso("2025-02-01"));
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  ASSERT_EQ(bars->size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) ASSERT_TRUE((*bars)[i].same_values(truth[i]));
}

}  // namespace
}  // namespace af::vision
