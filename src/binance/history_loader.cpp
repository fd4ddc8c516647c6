#include "binance/history_loader.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/time.hpp"
#include "net/http_client.hpp"

namespace af::binance {

HistoryLoader::HistoryLoader(BinanceRestClient& rest, vision::VisionDownloader* vision, int64_t interval_ms,
                             FeedHandoff& handoff)
    : rest_(rest), vision_(vision), interval_ms_(interval_ms), handoff_(handoff) {}

Result<std::vector<Bar>> HistoryLoader::rest_with_retry(const std::string& symbol, int64_t from, int64_t to) {
  for (int attempt = 0;; ++attempt) {
    handoff_.update_stats([](LiveFeedStats& s) { ++s.requests; });
    auto bars = rest_.klines(symbol, interval_ms_, from, to);
    if (bars || !bars.error().transient || attempt >= 5 || handoff_.stopping_or_failed()) return bars;
    handoff_.update_stats([](LiveFeedStats& s) { ++s.request_failures; });
    logger("sources.market")->warn("history rest failed, retrying symbol={} error={}", symbol, bars.error().message);
    net::sleep_unless_stopped(500 << std::min(attempt, 4), handoff_.stop_token());
  }
}

Result<std::vector<Bar>> HistoryLoader::load(const std::string& symbol, int64_t from, int64_t to, bool use_archive) {
  std::vector<Bar> bars;
  std::vector<std::pair<int64_t, int64_t>> rest_ranges{{from, to}};
  if (vision_ && use_archive) {
    auto archive = vision_->fetch(symbol, interval_ms_, from, to, now_ms());
    if (archive) {
      bars = std::move(archive->bars);
      rest_ranges = std::move(archive->missing);
      handoff_.update_stats(
          [&](LiveFeedStats& s) { s.archive_files_rejected += static_cast<uint64_t>(archive->files_rejected); });
      logger("sources.market")
          ->info("history archive symbol={} bars={} downloaded={} cached={} rejected={} rest_ranges={}", symbol,
                 bars.size(), archive->files_downloaded, archive->files_cached, archive->files_rejected,
                 rest_ranges.size());
    } else {
      logger("sources.market")
          ->warn("history archive unavailable, using REST symbol={} error={}", symbol, archive.error().message);
    }
  }
  for (const auto& [a, b] : rest_ranges) {
    auto more = rest_with_retry(symbol, a, b);
    if (!more) return more.error();
    bars.insert(bars.end(), more->begin(), more->end());
  }
  std::stable_sort(bars.begin(), bars.end(), [](const Bar& x, const Bar& y) { return x.ts < y.ts; });
  bars.erase(std::unique(bars.begin(), bars.end(), [](const Bar& x, const Bar& y) { return x.ts == y.ts; }), bars.end());
  return bars;
}

}  // namespace af::binance
