#include "vision/vision_archive.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bar_gen.hpp"
#include "common/interval.hpp"
#include "support/temp_dir.hpp"
#include "vision/vision_writer.hpp"

namespace af::vision {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

TEST(VisionArchive, Sha256KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(VisionArchive, ZipRoundTripWithChecksum) {
  test::TempDir dir;
  const std::string zip = dir / "X-1h-2024-01.zip";
  const std::string text = "1,2,3\n4,5,6\n";
  ASSERT_TRUE(write_vision_zip(zip, "X-1h-2024-01.csv", text, true).ok());
  const std::string sum = slurp(zip + ".CHECKSUM");
  ASSERT_EQ(sum.size(), 64u + 2 + 16 + 1);
  EXPECT_EQ(sum.substr(64), "  X-1h-2024-01.zip\n");
  EXPECT_EQ(sum.substr(0, 64), sha256_hex(slurp(zip)));

  auto f = read_vision_zip(zip);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->csv_name, "X-1h-2024-01.csv");
  EXPECT_EQ(f->text, text);
}

TEST(VisionArchive, ChecksumWithoutNewlineAndUpperCaseIsAccepted) {
  test::TempDir dir;
  const std::string zip = dir / "X-1h-2024-01.zip";
  ASSERT_TRUE(write_vision_zip(zip, "X-1h-2024-01.csv", "a\n", false).ok());
  std::string hex = sha256_hex(slurp(zip));
  for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  spit(zip + ".CHECKSUM", hex + "  X-1h-2024-01.zip");
  auto f = read_vision_zip(zip);
  ASSERT_TRUE(f.ok()) << f.error().message;
}

TEST(VisionArchive, ChecksumMismatchIsAnErrorNamingTheFile) {
  test::TempDir dir;
  const std::string zip = dir / "X-1h-2024-01.zip";
  ASSERT_TRUE(write_vision_zip(zip, "X-1h-2024-01.csv", "a\n", true).ok());
  const std::string wrong(64, '0');
  spit(zip + ".CHECKSUM", wrong + "  X-1h-2024-01.zip\n");
  auto f = read_vision_zip(zip);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, zip + ": checksum mismatch: .CHECKSUM says " + wrong + ", file hashes to " +
                                   sha256_hex(slurp(zip)));
  EXPECT_EQ(f.error().message.find('\n'), std::string::npos);
}

TEST(VisionArchive, ChecksumNamingAnotherFileIsAnError) {
  test::TempDir dir;
  const std::string zip = dir / "X-1h-2024-01.zip";
  ASSERT_TRUE(write_vision_zip(zip, "X-1h-2024-01.csv", "a\n", false).ok());
  spit(zip + ".CHECKSUM", sha256_hex(slurp(zip)) + "  Y-1h-2024-01.zip\n");
  auto f = read_vision_zip(zip);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, zip + ".CHECKSUM: names 'Y-1h-2024-01.zip', expected 'X-1h-2024-01.zip'");
}

TEST(VisionArchive, MalformedChecksumFile) {
  test::TempDir dir;
  const std::string zip = dir / "X-1h-2024-01.zip";
  ASSERT_TRUE(write_vision_zip(zip, "X-1h-2024-01.csv", "a\n", false).ok());
  spit(zip + ".CHECKSUM", "deadbeef X-1h-2024-01.zip\n");
  auto f = read_vision_zip(zip);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, zip + ".CHECKSUM: malformed checksum file (expected '<64 hex>  <file name>')");
}

TEST(VisionArchive, AbsentChecksumIsFine) {
  test::TempDir dir;
  const std::string zip = dir / "X-1h-2024-01.zip";
  ASSERT_TRUE(write_vision_zip(zip, "X-1h-2024-01.csv", "a\n", false).ok());
  EXPECT_FALSE(std::filesystem::exists(zip + ".CHECKSUM"));
  EXPECT_TRUE(read_vision_zip(zip).ok());
}

TEST(VisionArchive, NotAZip) {
  test::TempDir dir;
  const std::string zip = dir / "X-1h-2024-01.zip";
  spit(zip, "this is not a zip file at all, just text\n");
  auto f = read_vision_zip(zip);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message.rfind(zip + ": not a valid zip: ", 0), 0u) << f.error().message;
}

TEST(VisionArchive, CorruptCompressedDataIsDetected) {
  test::TempDir dir;
  const std::string zip = dir / "X-1m-2024-01.zip";
  // Enough rows that the deflate stream is long; corrupt bytes in its middle.
  const auto bars = test::random_bars(1704067200000, kMinuteMs, 2000, 7);
  ASSERT_TRUE(write_vision_zip(zip, "X-1m-2024-01.csv", format_vision_csv(bars, kMinuteMs, futures_dialect()), false)
                  .ok());
  std::string bytes = slurp(zip);
  ASSERT_GT(bytes.size(), 4000u);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  spit(zip, bytes);
  auto f = read_vision_zip(zip);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message.rfind(zip + ": ", 0), 0u) << f.error().message;
}

// The inflated text must match the CRC-32 the archive records: a zip whose CRC
// fields (local header and central directory, kept consistent) were changed is
// refused, though its compressed data is intact.
TEST(VisionArchive, CrcMismatchIsDetected) {
  test::TempDir dir;
  const std::string zip = dir / "X-1m-2024-01.zip";
  const auto bars = test::random_bars(1704067200000, kMinuteMs, 500, 9);
  ASSERT_TRUE(write_vision_zip(zip, "X-1m-2024-01.csv", format_vision_csv(bars, kMinuteMs, futures_dialect()), false)
                  .ok());
  ASSERT_TRUE(read_vision_zip(zip).ok());
  std::string bytes = slurp(zip);
  const size_t local = bytes.find(std::string("PK\x03\x04", 4));
  const size_t central = bytes.find(std::string("PK\x01\x02", 4));
  ASSERT_EQ(local, 0u);
  ASSERT_NE(central, std::string::npos);
  for (size_t at : {local + 14, central + 16}) bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  spit(zip, bytes);
  auto f = read_vision_zip(zip);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, zip + ": corrupt zip entry 'X-1m-2024-01.csv': CRC error");
}

TEST(VisionArchive, MissingFile) {
  auto f = read_vision_zip("/nonexistent/X.zip");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, "/nonexistent/X.zip: cannot open: No such file or directory");
}

TEST(VisionArchive, CsvErrorsNameZipAndEntry) {
  test::TempDir dir;
  const std::string zip = dir / "BTCUSDT-1h-2024-01.zip";
  ASSERT_TRUE(write_vision_zip(zip, "BTCUSDT-1h-2024-01.csv", "open_time,x\n1,2,3\n", true).ok());
  auto bars = read_vision_archive(zip);
  ASSERT_FALSE(bars.ok());
  EXPECT_EQ(bars.error().message, "BTCUSDT-1h-2024-01.zip:BTCUSDT-1h-2024-01.csv:2: expected 12 fields, got 3");
}

// Writer -> reader reproduces every value bit for bit, in every dialect.
TEST(VisionArchive, WriterReaderRoundTripIsBitIdentical) {
  test::TempDir dir;
  const auto bars = test::random_bars(1704067200000, kHourMs, 744, 42);
  VisionWriteOptions spot_us = spot_dialect();
  spot_us.microseconds = true;
  VisionWriteOptions crlf = futures_dialect();
  crlf.crlf = true;
  for (const auto& opts : {futures_dialect(), spot_dialect(), spot_us, crlf}) {
    auto path = write_vision_file(dir.str(), "ABCUSDT", kHourMs, VisionPeriod{2024, 1, 0}, bars, opts);
    ASSERT_TRUE(path.ok()) << path.error().message;
    auto back = read_vision_archive(*path);
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->size(), bars.size());
    for (size_t i = 0; i < bars.size(); ++i) {
      ASSERT_TRUE((*back)[i].same_values(bars[i])) << "row " << i;
    }
  }
}

TEST(VisionArchive, WriterDialects) {
  const auto bars = test::random_bars(1735689600000, kMinuteMs, 1, 3);
  const std::string fut = format_vision_csv(bars, kMinuteMs, futures_dialect());
  EXPECT_EQ(fut.rfind("open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
                      "taker_buy_quote_volume,ignore\n1735689600000,",
                      0),
            0u);
  EXPECT_NE(fut.find(",1735689659999,"), std::string::npos);
  VisionWriteOptions us = spot_dialect();
  us.microseconds = true;
  const std::string spot = format_vision_csv(bars, kMinuteMs, us);
  EXPECT_EQ(spot.rfind("1735689600000000,", 0), 0u);
  EXPECT_NE(spot.find(",1735689659999999,"), std::string::npos);
  EXPECT_EQ(spot.substr(spot.size() - 3), ",0\n");
}

TEST(VisionArchive, LayoutPaths) {
  const VisionPeriod m{2024, 1, 0};
  const VisionPeriod d{2024, 2, 29};
  EXPECT_EQ(vision_dir("/r", VisionMarket::kFuturesUm, true, "BTCUSDT", "1h"),
            "/r/data/futures/um/monthly/klines/BTCUSDT/1h");
  EXPECT_EQ(vision_dir("/r", VisionMarket::kSpot, false, "BTCUSDT", "1m"), "/r/data/spot/daily/klines/BTCUSDT/1m");
  EXPECT_EQ(vision_file_name("BTCUSDT", "1h", m), "BTCUSDT-1h-2024-01.zip");
  EXPECT_EQ(vision_file_name("BTCUSDT", "1h", d), "BTCUSDT-1h-2024-02-29.zip");
  EXPECT_EQ(m.start_ms(), 1704067200000);
  EXPECT_EQ(m.end_ms(), 1706745600000);
  EXPECT_EQ(d.end_ms() - d.start_ms(), kDayMs);
  EXPECT_EQ((VisionPeriod{2023, 12, 0}.end_ms()), 1704067200000);
  auto p = parse_vision_file_name("BTCUSDT-1h-2024-02-29.zip", "BTCUSDT", "1h");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->day, 29u);
  EXPECT_FALSE(parse_vision_file_name("BTCUSDT-1h-2024-02-29.zip.CHECKSUM", "BTCUSDT", "1h"));
  EXPECT_FALSE(parse_vision_file_name("BTCUSDT-15m-2024-02.zip", "BTCUSDT", "1h"));
  EXPECT_FALSE(parse_vision_file_name("BTCUSDT-1h-2024-13.zip", "BTCUSDT", "1h"));
}

}  // namespace
}  // namespace af::vision
