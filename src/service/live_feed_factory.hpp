#pragma once
// make_live_feed: the live feed of one data step, by its plugin
// (data.binance_futures, data.binance_spot, data.clickhouse_poll), for the live
// service. Settings shared by every feed come from the command line.

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "binance/live_bar_feed.hpp"

namespace af::service {

struct LiveFeedSettings {
  std::string ws_url, rest_url, vision_url;  // "" = environment, else Binance's
  std::string base_url;                      // all three at once (binance::LiveMarketFeedOptions::base_url)
  std::string ca_file;
  std::string cache_dir;         // Vision cache
  int64_t lookback_ms = 0;
  int64_t start_align_ms = 0;
  int64_t buffer_ms = 60'000;    // scheduling.buffer_minutes
  int64_t anchor_timeout_ms = 120'000;
  int64_t stale_after_ms = 0;    // 0: the feed's default
};

// Errors name the data step (its path in the pipeline) when the plugin has no live feed.
Result<std::unique_ptr<binance::LiveBarFeed>> make_live_feed(const dag::Plan& plan, const dag::SourcePlan& source,
                                                    const LiveFeedSettings& settings);

}  // namespace af::service
