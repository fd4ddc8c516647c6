#pragma once
// VisionDownloader: bulk kline history from Binance Vision (data.binance.vision or
// a mirror) over HTTP(S) into a local cache laid out exactly like the Vision tree
// (`<cache>/data/<market>/<monthly|daily>/klines/SYM/INT/SYM-INT-DATE.zip` plus
// `.CHECKSUM`), so that a restart downloads nothing twice and `VisionSource` can
// read the cache directly. Every zip is verified against its `.CHECKSUM` (sha256)
// before it enters the cache. Owned by the live feed's history fetch (one thread);
// blocking; not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "net/http_client.hpp"
#include "vision/vision_layout.hpp"

namespace af::vision {

struct VisionDownloadOptions {
  std::string base_url = "https://data.binance.vision";  // the folder that holds `data/`
  std::string cache_dir;                                // required
  VisionMarket market = VisionMarket::kFuturesUm;
  int max_attempts = 3;
  bool bar_cache = true;  // decode each archive once, into `<zip>.bars` beside it (vision_bar_cache.hpp)  // per file, for transient failures and checksum mismatches
  net::HttpClientOptions http;
};

struct VisionHistory {
  std::vector<Bar> bars;  // ts in [from, to), sorted, deduplicated, origin kArchive
  // [from, to) ranges no file covers (the current day, days not published yet, a
  // missing daily file): the caller fetches them over REST.
  std::vector<std::pair<int64_t, int64_t>> missing;
  int files_downloaded = 0;
  int files_cached = 0;  // served from the cache without a download
  // Files that passed their checksum but could not be read (a crafted or broken
  // archive: over the size bound, not a zip, bad CSV): dropped from the cache, their
  // range added to `missing`.
  int files_rejected = 0;
};

class VisionDownloader {
 public:
  explicit VisionDownloader(VisionDownloadOptions options);

  // History of `symbol` in [from, to): monthly files for months that are over
  // (by `now_ms`), daily files for the days after; a month without a monthly file
  // falls back to its daily files. A file that cannot be read is a bad archive:
  // removed from the cache, logged, counted, and its range left to REST.
  Result<VisionHistory> fetch(const std::string& symbol, int64_t interval_ms, int64_t from, int64_t to,
                              int64_t now_ms);

  // Makes one file present and verified in the cache. nullopt: the archive has no
  // such file (404). Returns the cached zip's path.
  Result<std::optional<std::string>> ensure_file(const std::string& symbol, const std::string& interval,
                                                 const VisionPeriod& period, int& downloaded, int& cached);

  // Path of a file in the cache (whether present or not).
  std::string cache_path(const std::string& symbol, const std::string& interval, const VisionPeriod& period) const;

 private:
  VisionDownloadOptions options_;
  net::HttpClient http_;
};

}  // namespace af::vision
