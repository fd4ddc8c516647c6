#pragma once
// HistoryLoader: one symbol's warmup history [from, to) for the live Binance
// feed: the Binance Vision archive (downloaded once, cached on disk) first, REST
// for the ranges the archive lacks, transient REST failures retried for a while
// (history must be exact); sorted, one bar per ts. Counts its requests in the
// feed's stats. Owned by the feed's worker thread.

#include <cstdint>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "binance/binance_rest_client.hpp"
#include "runtime/feed_handoff.hpp"
#include "vision/vision_downloader.hpp"

namespace af::binance {

class HistoryLoader {
 public:
  // `vision`: null without an archive cache (REST only).
  HistoryLoader(BinanceRestClient& rest, vision::VisionDownloader* vision, int64_t interval_ms, FeedHandoff& handoff);

  // use_archive = false asks REST only (a short catch-up after a restart).
  Result<std::vector<Bar>> load(const std::string& symbol, int64_t from, int64_t to, bool use_archive);

 private:
  Result<std::vector<Bar>> rest_with_retry(const std::string& symbol, int64_t from, int64_t to);

  BinanceRestClient& rest_;
  vision::VisionDownloader* vision_;
  int64_t interval_ms_;
  FeedHandoff& handoff_;
};

}  // namespace af::binance
