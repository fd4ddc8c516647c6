// vision::VisionDownloader against a file server on loopback: monthly then daily files,
// checksums, the on-disk cache (nothing downloaded twice, readable by
// vision::VisionSource), missing files reported for REST.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "loopback_server.hpp"
#include "market_test_util.hpp"
#include "vision/vision_downloader.hpp"
#include "vision/vision_source.hpp"
#include "vision/vision_writer.hpp"

namespace af::binance {
namespace {

using test::HttpRequest;
using test::HttpResponse;
namespace http = boost::beast::http;

// Serves files under `root` by URL path; counts requests.
struct FileServer {
  std::string root;
  std::atomic<int> requests{0};
  std::atomic<bool> corrupt_next_zip{false};
  HttpResponse handle(const HttpRequest& req) {
    ++requests;
    const std::string path = root + std::string(req.target());
    if (std::string(req.target()).find("..") != std::string::npos || !std::filesystem::is_regular_file(path)) {
      return HttpResponse{http::status::not_found, 11};
    }
    HttpResponse r{http::status::ok, 11};
    r.body() = test::read_file(path);
    if (corrupt_next_zip && path.ends_with(".zip")) {
      corrupt_next_zip = false;
      r.body()[r.body().size() / 2] ^= 1;
    }
    return r;
  }
};

int64_t day(int64_t y, unsigned m, unsigned d) { return days_from_civil(y, m, d) * kDayMs; }

TEST(VisionDownloaderTest, MonthlyThenDailyCachedAndMissingReported) {
  test::TempDir remote, cache;
  constexpr int64_t kIv = kHourMs;
  // Remote: monthly 2024-01 and 2024-02; no monthly 2024-03 (not published), daily
  // files for 2024-03-01..03 except 03-02 (missing).
  const auto jan_feb = test::synthetic_bars(day(2024, 1, 1), kIv, static_cast<int>((day(2024, 3, 1) - day(2024, 1, 1)) / kIv), 11);
  const auto march = test::synthetic_bars(day(2024, 3, 1), kIv, 72, 12);
  auto in = [](const std::vector<Bar>& bars, int64_t a, int64_t b) {
    std::vector<Bar> out;
    for (const auto& x : bars) {
      if (x.ts >= a && x.ts < b) out.push_back(x);
    }
    return out;
  };
  ASSERT_TRUE(vision::write_vision_file(remote.str(), "BTCUSDT", kIv, vision::VisionPeriod{2024, 1, 0}, in(jan_feb, day(2024, 1, 1), day(2024, 2, 1)), vision::futures_dialect()));
  ASSERT_TRUE(vision::write_vision_file(remote.str(), "BTCUSDT", kIv, vision::VisionPeriod{2024, 2, 0}, in(jan_feb, day(2024, 2, 1), day(2024, 3, 1)), vision::futures_dialect()));
  ASSERT_TRUE(vision::write_vision_file(remote.str(), "BTCUSDT", kIv, vision::VisionPeriod{2024, 3, 1}, in(march, day(2024, 3, 1), day(2024, 3, 2)), vision::futures_dialect()));
  ASSERT_TRUE(vision::write_vision_file(remote.str(), "BTCUSDT", kIv, vision::VisionPeriod{2024, 3, 3}, in(march, day(2024, 3, 3), day(2024, 3, 4)), vision::futures_dialect()));
  FileServer files{remote.str()};
  test::LoopbackServer server([&](const HttpRequest& r) { return files.handle(r); });

  vision::VisionDownloadOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.cache_dir = cache.str();
  vision::VisionDownloader dl(o);
  const int64_t from = day(2024, 1, 20) + 5 * kIv, to = day(2024, 3, 5);
  const int64_t now = day(2024, 3, 4) + 10 * kIv;  // 03-04 not over yet
  auto got = dl.fetch("BTCUSDT", kIv, from, to, now);
  ASSERT_TRUE(got) << got.error().message;
  std::vector<Bar> want = in(jan_feb, from, day(2024, 3, 1));
  for (const auto& b : in(march, day(2024, 3, 1), day(2024, 3, 2))) want.push_back(b);
  for (const auto& b : in(march, day(2024, 3, 3), day(2024, 3, 4))) want.push_back(b);
  ASSERT_EQ(got->bars.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(got->bars[i].same_values(want[i])) << i;
    ASSERT_EQ(got->bars[i].origin, BarOrigin::kArchive);
  }
  // 03-02 has no file; 03-04 is not over: both for REST.
  using R = std::pair<int64_t, int64_t>;
  EXPECT_EQ(got->missing, (std::vector<R>{{day(2024, 3, 2), day(2024, 3, 3)}, {day(2024, 3, 4), to}}));
  EXPECT_EQ(got->files_downloaded, 4);
  EXPECT_EQ(got->files_cached, 0);

  // A restart downloads nothing twice.
  const int before = files.requests.load();
  vision::VisionDownloader again(o);
  auto second = again.fetch("BTCUSDT", kIv, from, to, now);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->files_downloaded, 0);
  EXPECT_EQ(second->files_cached, 4);
  EXPECT_EQ(second->bars.size(), want.size());
  // Only the file that does not exist is asked again (the 404 of daily 03-02).
  EXPECT_EQ(files.requests.load() - before, 1);

  // The cache is a Vision tree vision::VisionSource reads directly.
  vision::VisionSource source(cache.str(), vision::VisionMarket::kFuturesUm, kIv);
  auto replay = source.history("BTCUSDT", from, day(2024, 3, 1));
  ASSERT_TRUE(replay) << replay.error().message;
  ASSERT_EQ(replay->size(), in(jan_feb, from, day(2024, 3, 1)).size());
}

TEST(VisionDownloaderTest, ChecksumMismatchIsRetriedAndNeverCached) {
  test::TempDir remote, cache;
  const auto bars = test::synthetic_bars(day(2024, 1, 1), kDayMs, 31, 13);
  ASSERT_TRUE(vision::write_vision_file(remote.str(), "ETHUSDT", kDayMs, vision::VisionPeriod{2024, 1, 0}, bars, vision::futures_dialect()));
  FileServer files{remote.str()};
  test::LoopbackServer server([&](const HttpRequest& r) { return files.handle(r); });
  vision::VisionDownloadOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.cache_dir = cache.str();
  o.max_attempts = 1;
  vision::VisionDownloader dl(o);
  files.corrupt_next_zip = true;
  int downloaded = 0, cached = 0;
  auto bad = dl.ensure_file("ETHUSDT", "1d", vision::VisionPeriod{2024, 1, 0}, downloaded, cached);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("checksum mismatch"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(std::filesystem::exists(dl.cache_path("ETHUSDT", "1d", vision::VisionPeriod{2024, 1, 0})));
  auto good = dl.ensure_file("ETHUSDT", "1d", vision::VisionPeriod{2024, 1, 0}, downloaded, cached);
  ASSERT_TRUE(good) << good.error().message;
  ASSERT_TRUE(good->has_value());
  EXPECT_EQ(downloaded, 1);
}

TEST(VisionDownloaderTest, RealMirrorMonthsMatchTheMirror) {
  const std::string samples = test::shared_samples_dir();
  if (samples.empty()) GTEST_SKIP() << "AF_SHARED_DIR/data absent";
  const std::string mirror = samples + "/../binance-vision";
  if (!std::filesystem::exists(mirror + "/data/futures/um/monthly/klines/FILUSDT/1h")) GTEST_SKIP() << "no mirror";
  test::TempDir cache;
  FileServer files{mirror};
  test::LoopbackServer server([&](const HttpRequest& r) { return files.handle(r); });
  vision::VisionDownloadOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.cache_dir = cache.str();
  vision::VisionDownloader dl(o);
  const int64_t from = day(2023, 8, 15), to = day(2023, 11, 1);
  auto got = dl.fetch("FILUSDT", kHourMs, from, to, day(2024, 1, 1));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->files_downloaded, 3);
  EXPECT_TRUE(got->missing.empty());
  vision::VisionSource source(mirror, vision::VisionMarket::kFuturesUm, kHourMs);
  auto want = source.history("FILUSDT", from, to);
  ASSERT_TRUE(want);
  ASSERT_EQ(got->bars.size(), want->size());
  for (size_t i = 0; i < want->size(); ++i) ASSERT_TRUE(got->bars[i].same_values((*want)[i])) << i;
  // Byte-identical copies of the mirror's files.
  const std::string rel = "/data/futures/um/monthly/klines/FILUSDT/1h/FILUSDT-1h-2023-09.zip";
  EXPECT_EQ(test::read_file(cache.str() + rel), test::read_file(mirror + rel));
}

}  // namespace
}  // namespace af::binance
