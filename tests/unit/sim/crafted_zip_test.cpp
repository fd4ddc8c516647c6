// The crafted zip of the huge_zip fault against the Vision reader: a zip that
// declares what it holds reads back; one that declares more than a kline file of
// its period can hold is refused before anything is allocated (it used to be
// resize()d to 1 PiB: std::terminate on the feed's thread).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/crafted_zip.hpp"
#include "vision/vision_archive.hpp"

namespace af::sim {
namespace {

struct Dir {
  std::string path;
  Dir() {
    path = (std::filesystem::temp_directory_path() / ("af_crafted_zip_" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(path);
  }
  ~Dir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path + "/" + name, std::ios::binary | std::ios::trunc) << bytes;
    return path + "/" + name;
  }
};

const std::string kCsv = "1704067200000,1,2,0.5,1.5,10,1704067259999,15,3,4,6,0\n";

TEST(CraftedZipTest, AZipDeclaringItsTrueSizeReadsBack) {
  Dir dir;
  const std::string zip = zip_declaring_size("BTCUSDT-1m-2024-01.csv", kCsv, kCsv.size());
  const std::string path = dir.write("BTCUSDT-1m-2024-01.zip", zip);
  dir.write("BTCUSDT-1m-2024-01.zip.CHECKSUM", vision::checksum_line(zip, "BTCUSDT-1m-2024-01.zip"));
  auto f = vision::read_vision_zip(path);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->csv_name, "BTCUSDT-1m-2024-01.csv");
  EXPECT_EQ(f->text, kCsv);
}

TEST(CraftedZipTest, AnEntryDeclaringOnePebibyteIsRefusedWithTheBound) {
  Dir dir;
  const std::string zip = zip_declaring_size("BTCUSDT-1m-2024-01.csv", kCsv, 1ULL << 50);
  const std::string path = dir.write("BTCUSDT-1m-2024-01.zip", zip);
  // The checksum matches: only the entry's declared size gives it away.
  dir.write("BTCUSDT-1m-2024-01.zip.CHECKSUM", vision::checksum_line(zip, "BTCUSDT-1m-2024-01.zip"));
  auto f = vision::read_vision_zip(path);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, path +
                                   ": entry 'BTCUSDT-1m-2024-01.csv' declares 1125899906842624 bytes, above the "
                                   "bound of 11432192 for this file");
  auto bars = vision::read_vision_archive(path);
  ASSERT_FALSE(bars);
  EXPECT_EQ(bars.error().message, f.error().message);
}

TEST(CraftedZipTest, AnEntryExpandingPastItsDeclaredSizeIsRefused) {
  Dir dir;
  const std::string zip = zip_declaring_size("BTCUSDT-1m-2024-01-05.csv", kCsv, 10);
  const std::string path = dir.write("BTCUSDT-1m-2024-01-05.zip", zip);
  auto f = vision::read_vision_zip(path);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, path + ": entry 'BTCUSDT-1m-2024-01-05.csv' expands past its declared 10 bytes");
}

TEST(CraftedZipTest, TheBoundFollowsThePeriodAndIntervalOfTheName) {
  EXPECT_EQ(vision::vision_csv_byte_bound("BTCUSDT-1m-2024-01.zip"), (31u * 1440 + 1) * 256 + 4096);
  EXPECT_EQ(vision::vision_csv_byte_bound("BTCUSDT-1m-2024-02.zip"), (29u * 1440 + 1) * 256 + 4096);
  EXPECT_EQ(vision::vision_csv_byte_bound("BTCUSDT-1m-2024-01-05.zip"), (1440u + 1) * 256 + 4096);
  EXPECT_EQ(vision::vision_csv_byte_bound("BTCUSDT-1h-2024-01.zip"), (31u * 24 + 1) * 256 + 4096);
  EXPECT_EQ(vision::vision_csv_byte_bound("BTCUSDT-1s-2024-01.zip"), (31ULL * 86400 + 1) * 256 + 4096);
  EXPECT_EQ(vision::vision_csv_byte_bound("whatever.zip"), vision::kVisionUnnamedByteBound);
  EXPECT_EQ(vision::vision_csv_byte_bound("BTCUSDT-7x-2024-01.zip"), vision::kVisionUnnamedByteBound);
}

}  // namespace
}  // namespace af::sim
