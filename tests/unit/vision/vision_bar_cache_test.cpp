#include "vision/vision_bar_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bar_gen.hpp"
#include "common/interval.hpp"
#include "common/time.hpp"
#include "support/temp_dir.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_source.hpp"
#include "vision/vision_writer.hpp"

namespace af::vision {
namespace {

namespace fs = std::filesystem;

constexpr size_t kHeader = 160;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

ino_t inode(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

void expect_same(const std::vector<Bar>& a, const std::vector<Bar>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(a[i].same_values(b[i])) << "row " << i;
    ASSERT_EQ(a[i].origin, b[i].origin) << "row " << i;
    ASSERT_EQ(a[i].complete, b[i].complete) << "row " << i;
  }
}

BarCacheStats delta(const BarCacheStats& before) {
  const BarCacheStats now = bar_cache_stats();
  return {now.hits - before.hits,       now.written - before.written,     now.invalid - before.invalid,
          now.skipped - before.skipped, now.trusted - before.trusted,     now.refreshed - before.refreshed};
}

// One month of hourly bars in a Vision zip with its .CHECKSUM.
class BarCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const VisionPeriod jan{2024, 1, 0};
    bars_ = test::random_bars(jan.start_ms(), kHourMs, 31 * 24, 5);
    auto path = write_vision_file(dir_.str(), "ABCUSDT", kHourMs, jan, bars_, futures_dialect());
    ASSERT_TRUE(path.ok()) << path.error().message;
    zip_ = *path;
    cache_ = bar_cache_path(zip_);
  }

  // Reads through the cache, checks the bars against the archive's, returns the
  // stats of that one read and what it logged.
  BarCacheStats read(std::string* log = nullptr) {
    const BarCacheStats before = bar_cache_stats();
    testing::internal::CaptureStderr();
    auto got = read_vision_bars(zip_, true);
    const std::string err = testing::internal::GetCapturedStderr();
    if (log) *log = err;
    EXPECT_TRUE(got.ok()) << got.error().message;
    if (got.ok()) expect_same(*got, bars_);
    return delta(before);
  }

  test::TempDir dir_;
  std::vector<Bar> bars_;
  std::string zip_;
  std::string cache_;
};

TEST_F(BarCacheTest, CreatedBesideTheArchiveThenReused) {
  ASSERT_FALSE(fs::exists(cache_));
  auto first = read();
  EXPECT_EQ(first.written, 1u);
  EXPECT_EQ(first.hits, 0u);
  ASSERT_TRUE(fs::exists(cache_));
  EXPECT_EQ(cache_, zip_ + ".bars");
  EXPECT_EQ(fs::file_size(cache_), kHeader + bars_.size() * 81);
  const ino_t written_inode = inode(cache_);

  std::string log;
  auto second = read(&log);
  EXPECT_EQ(second.hits, 1u);
  EXPECT_EQ(second.written, 0u);
  EXPECT_EQ(second.invalid, 0u);
  EXPECT_EQ(log, "");
  // Served from the file as it was: not rewritten (a write renames a new inode in),
  // unless the zip had grown old enough meanwhile for its identity to be recorded.
  EXPECT_EQ(inode(cache_) == written_inode, second.refreshed == 0);
}

TEST_F(BarCacheTest, AHitReturnsTheCachesBarsNotTheCsvs) {
  // A cache file bound to this exact zip (its size and sha256) but holding other
  // bars: what a hit returns are those, so the bars come from the cache file.
  auto zip = load_vision_zip(zip_);
  ASSERT_TRUE(zip.ok());
  auto other = test::random_bars(bars_.front().ts, kHourMs, 100, 77);
  ASSERT_TRUE(write_bar_cache(cache_, other, zip->bytes.size(), zip->sha256).ok());
  const std::vector<Bar> archive_bars = bars_;
  bars_ = other;
  EXPECT_EQ(read().hits, 1u);
  // Bound to another archive's sha256: refused as stale, rebuilt from the zip.
  ASSERT_TRUE(write_bar_cache(cache_, other, zip->bytes.size(), sha256_hex("another archive")).ok());
  bars_ = archive_bars;
  std::string log;
  auto stats = read(&log);
  EXPECT_EQ(stats.invalid, 1u);
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_NE(log.find("vision bar cache " + cache_ + ": stale: built for an archive of"), std::string::npos) << log;
}

TEST_F(BarCacheTest, ReplacedArchiveOfTheSameSizeInvalidatesIt) {
  read();
  const uint64_t size = fs::file_size(zip_);
  // Another valid archive of the same byte size: one price digit changed, tried
  // at successive rows until the deflated size matches.
  std::string csv = format_vision_csv(bars_, kHourMs, futures_dialect());
  const std::string name = fs::path(zip_).filename().replace_extension(".csv").string();
  bool found = false;
  size_t row_start = csv.find('\n') + 1;  // past the header
  for (int tries = 0; tries < 400 && !found; ++tries) {
    std::string changed = csv;
    const size_t comma = changed.find(',', row_start);  // after open_time: the open price
    ASSERT_NE(comma, std::string::npos);
    char& digit = changed[comma + 1];
    digit = digit == '9' ? '8' : static_cast<char>(digit + 1);
    ASSERT_TRUE(write_vision_zip(zip_, name, changed, true).ok());
    found = fs::file_size(zip_) == size;
    row_start = csv.find('\n', row_start) + 1;
    if (found) {
      auto expected = read_vision_archive(zip_);
      ASSERT_TRUE(expected.ok()) << expected.error().message;
      bars_ = *expected;
    }
  }
  ASSERT_TRUE(found) << "no same-size variant of the archive";
  std::string log;
  auto stats = read(&log);  // checks the bars are the new archive's
  EXPECT_EQ(stats.invalid, 1u);
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_EQ(stats.written, 1u);
  EXPECT_NE(log.find("vision bar cache " + cache_ + ": stale: built for an archive of " + std::to_string(size) +
                     " bytes with sha256 "),
            std::string::npos)
      << log;
  EXPECT_EQ(read().hits, 1u);
}

TEST_F(BarCacheTest, TruncatedFileIsRebuiltWithAWarning) {
  read();
  const std::string full = slurp(cache_);
  for (size_t keep : {size_t{0}, size_t{10}, kHeader, kHeader + 100, full.size() - 1}) {
    spit(cache_, full.substr(0, keep));
    std::string log;
    auto stats = read(&log);
    EXPECT_EQ(stats.invalid, 1u) << keep;
    EXPECT_EQ(stats.hits, 0u) << keep;
    EXPECT_EQ(stats.written, 1u) << keep;
    const std::string want = keep < kHeader ? "vision bar cache " + cache_ + ": truncated: " + std::to_string(keep) +
                                                  " bytes, less than the 160-byte header"
                                            : "vision bar cache " + cache_ + ": truncated or padded: the header says " +
                                                  std::to_string(bars_.size()) + " rows";
    EXPECT_NE(log.find(want), std::string::npos) << keep << ": " << log;
    EXPECT_NE(log.find("rebuilding it from the archive"), std::string::npos) << log;
    EXPECT_EQ(slurp(cache_).substr(kHeader), full.substr(kHeader)) << keep;  // the same bars again
  }
}

TEST_F(BarCacheTest, CorruptPayloadOrHeaderIsRebuilt) {
  read();
  const std::string full = slurp(cache_);
  struct Case {
    size_t offset;
    const char* message;
  };
  // A byte of the close column, of the flags column, of the row count, of the magic.
  const size_t n = bars_.size();
  for (const Case& c : {Case{kHeader + 4 * n * 8 + 17, "corrupt payload (checksum mismatch)"},
                        Case{kHeader + 10 * n * 8 + 3, "corrupt payload (checksum mismatch)"},
                        Case{88 + 7, "corrupt header (checksum mismatch)"},
                        Case{0, "not a bar cache file (bad magic)"}}) {
    std::string bad = full;
    bad[c.offset] = static_cast<char>(bad[c.offset] ^ 0x40);
    spit(cache_, bad);
    std::string log;
    auto stats = read(&log);
    EXPECT_EQ(stats.invalid, 1u) << c.offset;
    EXPECT_EQ(stats.hits, 0u) << c.offset;
    EXPECT_NE(log.find("vision bar cache " + cache_ + ": " + c.message), std::string::npos) << log;
    EXPECT_EQ(slurp(cache_).substr(kHeader), full.substr(kHeader));  // the same bars again
  }
}

// A warm run does not read or hash the zip when stat shows the file that was
// hashed, unchanged and old enough that no change could have kept its ctime.
TEST_F(BarCacheTest, AnUnchangedSettledArchiveIsNotHashedAgain) {
  auto first = read();  // the zip was written just now: its identity cannot be trusted yet
  EXPECT_EQ(first.written, 1u);
  EXPECT_EQ(first.trusted, 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  // Hashed again and found valid: the header now records the identity (unless the
  // first read itself came more than 2 s after the zip was written).
  auto second = read();
  EXPECT_EQ(second.hits, 1u);
  EXPECT_EQ(second.trusted + second.refreshed, 1u);
  EXPECT_EQ(second.written + second.invalid, 0u);
  auto third = read();
  EXPECT_EQ(third.hits, 1u);
  EXPECT_EQ(third.trusted, 1u);
  EXPECT_EQ(third.refreshed + third.written, 0u);

  // Touched (times set to what they were): the ctime moves, the zip is hashed again.
  struct stat st{};
  ASSERT_EQ(::stat(zip_.c_str(), &st), 0);
  const timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, zip_.c_str(), times, 0), 0);
  auto touched = read();
  EXPECT_EQ(touched.hits, 1u);
  EXPECT_EQ(touched.trusted, 0u);
  EXPECT_EQ(touched.refreshed, 0u);  // its new ctime is too recent to stand for the bytes

  // A byte changed in place with size and mtime restored: still caught, by the ctime.
  {
    const int fd = ::open(zip_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char c = 0;
    ASSERT_EQ(::pread(fd, &c, 1, 40), 1);
    c = static_cast<char>(c ^ 0x20);
    ASSERT_EQ(::pwrite(fd, &c, 1, 40), 1);
    ::close(fd);
    ASSERT_EQ(::utimensat(AT_FDCWD, zip_.c_str(), times, 0), 0);
  }
  const BarCacheStats before = bar_cache_stats();
  auto got = read_vision_bars(zip_, true);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find(zip_ + ": checksum mismatch"), std::string::npos) << got.error().message;
  EXPECT_EQ(delta(before).hits, 0u);
}

TEST_F(BarCacheTest, NoCacheNeitherReadsNorWrites) {
  const BarCacheStats before = bar_cache_stats();
  auto got = read_vision_bars(zip_, false);
  ASSERT_TRUE(got.ok());
  expect_same(*got, bars_);
  EXPECT_FALSE(fs::exists(cache_));
  spit(cache_, "garbage");
  testing::internal::CaptureStderr();
  ASSERT_TRUE(read_vision_bars(zip_, false).ok());
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(slurp(cache_), "garbage");
  const auto d = delta(before);
  EXPECT_EQ(d.hits + d.written + d.invalid + d.skipped, 0u);
}

TEST_F(BarCacheTest, ReadOnlyFolderIsSkippedWithOneWarning) {
  const std::string folder = fs::path(zip_).parent_path().string();
  ASSERT_EQ(::chmod(folder.c_str(), 0555), 0);
  const bool said_before = bar_cache_stats().read_only_warned;  // by an earlier test of this process
  std::string log, log2;
  auto first = read(&log);
  auto second = read(&log2);
  ::chmod(folder.c_str(), 0755);
  EXPECT_EQ(first.skipped, 1u);
  EXPECT_EQ(second.skipped, 1u);
  EXPECT_FALSE(fs::exists(cache_));
  for (const auto& e : fs::directory_iterator(folder)) EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos);
  // Said once per process.
  const std::string warning = "vision bar cache: cannot write beside " + folder +
                              " (Permission denied): the decoded-bar cache is skipped for read-only folders, their "
                              "archives are decoded on every run";
  EXPECT_EQ(log.find(warning) != std::string::npos, !said_before) << log;
  EXPECT_EQ(log2, "");
  EXPECT_TRUE(bar_cache_stats().read_only_warned);
}

TEST_F(BarCacheTest, ArchiveErrorsAreTheArchivesNotTheCaches) {
  read();
  spit(zip_, "not a zip at all");
  auto got = read_vision_bars(zip_, true);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find(zip_ + ": checksum mismatch"), std::string::npos) << got.error().message;
}

// Processes racing to fill (and refill) the same cache never read a partial file:
// each write is a temp file renamed into place.
TEST_F(BarCacheTest, TwoProcessesFillingTheSameCacheAtOnce) {
  // A month of 1m bars (3.6 MB of cache), so that a write takes long enough to be raced.
  const VisionPeriod feb{2024, 2, 0};
  bars_ = test::random_bars(feb.start_ms(), kMinuteMs, 29 * 24 * 60, 6);
  auto path = write_vision_file(dir_.str(), "ABCUSDT", kMinuteMs, feb, bars_, futures_dialect());
  ASSERT_TRUE(path.ok()) << path.error().message;
  zip_ = *path;
  cache_ = bar_cache_path(zip_);
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> kids;
  for (int k = 0; k < 2; ++k) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char c;
      (void)!::read(go[0], &c, 1);  // start together
      int bad = 0;
      const BarCacheStats before = bar_cache_stats();  // the parent's, inherited
      for (int i = 0; i < 30; ++i) {
        if (i % 2 == 0) ::unlink(cache_.c_str());  // make both refill it, over and over
        auto got = read_vision_bars(zip_, true);
        if (!got.ok() || got->size() != bars_.size()) {
          ++bad;
          continue;
        }
        for (size_t r = 0; r < bars_.size(); ++r) bad += got->at(r).same_values(bars_[r]) ? 0 : 1;
      }
      const auto s = delta(before);
      // A reader that saw a half-written file would count it invalid.
      ::_exit(bad == 0 && s.invalid == 0 && s.skipped == 0 ? 0 : 1);
    }
    kids.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // EOF releases both
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid << " status " << status;
  }
  EXPECT_EQ(read().hits, 1u);
  for (const auto& e : fs::directory_iterator(fs::path(zip_).parent_path()))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(VisionSourceBarCache, SameHistoryWithAndWithoutCacheAndBarsFilesIgnored) {
  test::TempDir dir;
  const VisionPeriod jan{2024, 1, 0};
  auto bars = test::random_bars(jan.start_ms(), kHourMs, 31 * 24 + 48, 9);
  std::vector<Bar> month(bars.begin(), bars.begin() + 31 * 24);
  std::vector<Bar> day1(bars.begin() + 31 * 24, bars.begin() + 32 * 24);
  ASSERT_TRUE(write_vision_file(dir.str(), "ABCUSDT", kHourMs, jan, month, futures_dialect()).ok());
  ASSERT_TRUE(write_vision_file(dir.str(), "ABCUSDT", kHourMs, {2024, 2, 1}, day1, futures_dialect()).ok());
  VisionSource plain(dir.str(), VisionMarket::kFuturesUm, kHourMs, false);
  VisionSource cached(dir.str(), VisionMarket::kFuturesUm, kHourMs, true);
  auto want = plain.history("ABCUSDT", bars.front().ts, bars.back().ts + 1);
  ASSERT_TRUE(want.ok());
  for (int run = 0; run < 2; ++run) {
    const BarCacheStats before = bar_cache_stats();
    auto got = cached.history("ABCUSDT", bars.front().ts, bars.back().ts + 1);
    ASSERT_TRUE(got.ok()) << got.error().message;
    expect_same(*got, *want);
    EXPECT_EQ(delta(before).hits, run == 0 ? 0u : 2u);
    EXPECT_EQ(delta(before).written, run == 0 ? 2u : 0u);
  }
  auto first = cached.earliest("ABCUSDT");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first, bars.front().ts);
}

// history_chunk (what replay reads) holds exactly history()'s bars for windows
// inside one file (a view of the mapped cache once it is warm), across files,
// partly or wholly outside the data, and for a file whose rows are out of order
// with a duplicate ts (the vector path: sorted, first row kept).
TEST(VisionSourceBarCache, HistoryChunkEqualsHistory) {
  test::TempDir dir;
  const VisionPeriod jan{2024, 1, 0};
  auto bars = test::random_bars(jan.start_ms(), kHourMs, 31 * 24 + 48, 21);
  std::vector<Bar> month(bars.begin(), bars.begin() + 31 * 24);
  std::vector<Bar> feb1(bars.begin() + 31 * 24, bars.begin() + 32 * 24);
  std::vector<Bar> feb2(bars.begin() + 32 * 24, bars.end());
  std::reverse(feb2.begin(), feb2.end());  // out of order...
  Bar twin = feb2[5];
  twin.close += 1;  // ...and a second row for one ts, with other values
  feb2.insert(feb2.begin() + 9, twin);
  ASSERT_TRUE(write_vision_file(dir.str(), "ABCUSDT", kHourMs, jan, month, futures_dialect()).ok());
  ASSERT_TRUE(write_vision_file(dir.str(), "ABCUSDT", kHourMs, {2024, 2, 1}, feb1, futures_dialect()).ok());
  ASSERT_TRUE(write_vision_file(dir.str(), "ABCUSDT", kHourMs, {2024, 2, 2}, feb2, futures_dialect()).ok());
  VisionSource plain(dir.str(), VisionMarket::kFuturesUm, kHourMs, false);
  const int64_t feb = VisionPeriod{2024, 2, 0}.start_ms();
  struct Window {
    int64_t from, to;
    bool one_file;  // inside the monthly file: mapped once the cache is warm
  };
  const Window windows[] = {
      {jan.start_ms(), feb, true},                                        // the month, as replay asks
      {jan.start_ms() + 5 * kDayMs + 3 * kHourMs, jan.start_ms() + 20 * kDayMs + 1, true},  // inside it
      {jan.start_ms() - 40 * kDayMs, jan.start_ms() + kDayMs, true},      // from before the data
      {jan.start_ms() + 30 * kDayMs, feb + 2 * kDayMs, false},            // across three files
      {feb + kDayMs, feb + 2 * kDayMs, false},                            // the reversed daily file
      {feb + 3 * kDayMs, feb + 40 * kDayMs, false},                       // after the data
      {jan.start_ms() + 7 * kHourMs, jan.start_ms() + 7 * kHourMs, true},  // empty, inside the month
  };
  for (bool cache : {false, true}) {
    for (int run = 0; run < 2; ++run) {  // with the cache: cold (no .bars yet), then warm
      VisionSource source(dir.str(), VisionMarket::kFuturesUm, kHourMs, cache);
      for (const Window& w : windows) {
        SCOPED_TRACE("cache=" + std::to_string(cache) + " run=" + std::to_string(run) + " from=" +
                     format_iso8601(w.from) + " to=" + format_iso8601(w.to));
        auto want = plain.history("ABCUSDT", w.from, w.to);
        ASSERT_TRUE(want.ok()) << want.error().message;
        auto got = source.history_chunk("ABCUSDT", w.from, w.to);
        ASSERT_TRUE(got.ok()) << got.error().message;
        // The first window of the cold run decodes January and writes its cache;
        // every later read of that file maps it.
        const bool warm = run == 1 || &w != &windows[0];
        EXPECT_EQ(got->mapped(), cache && warm && w.one_file);
        ASSERT_EQ(got->size(), want->size());
        for (size_t i = 0; i < got->size(); ++i) ASSERT_EQ(got->ts(i), (*want)[i].ts) << "row " << i;
        expect_same(std::move(got).value().to_vector(), *want);
      }
    }
  }
}

}  // namespace
}  // namespace af::vision
