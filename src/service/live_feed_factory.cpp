#include "service/live_feed_factory.hpp"

#include "clickhouse/clickhouse_poll_feed.hpp"
#include "binance/live_market_feed.hpp"

namespace af::service {

Result<std::unique_ptr<binance::LiveBarFeed>> make_live_feed(const dag::Plan& plan, const dag::SourcePlan& source,
                                                    const LiveFeedSettings& settings) {
  if (source.plugin == "data.binance_futures" || source.plugin == "data.binance_spot") {
    binance::LiveMarketFeedOptions o;
    o.market = source.plugin == "data.binance_futures" ? binance::BinanceMarket::kFutures : binance::BinanceMarket::kSpot;
    o.universe = source.universe;
    o.interval_ms = source.interval_ms;
    o.lookback_ms = settings.lookback_ms;
    o.start_align_ms = settings.start_align_ms;
    o.ws_url = settings.ws_url;
    o.rest_url = settings.rest_url;
    o.vision_url = settings.vision_url;
    o.base_url = settings.base_url;
    o.cache_dir = settings.cache_dir;
    o.ca_file = settings.ca_file;
    o.buffer_ms = settings.buffer_ms;
    o.anchor_timeout_ms = settings.anchor_timeout_ms;
    o.stale_after_ms = settings.stale_after_ms;
    o.history_from_caller = true;
    return std::unique_ptr<binance::LiveBarFeed>(std::make_unique<binance::LiveMarketFeed>(std::move(o)));
  }
  if (source.plugin == "data.clickhouse_poll") {
    clickhouse::ClickHousePollFeedOptions o;
    o.table = clickhouse::clickhouse_bar_table_config(plan.steps[source.step].params);
    o.table.name = plan.steps[source.step].path + " (data.clickhouse_poll)";
    o.universe = source.universe;
    o.interval_ms = source.interval_ms;
    o.buffer_ms = settings.buffer_ms;
    o.stale_after_ms = settings.stale_after_ms;
    o.lookback_ms = settings.lookback_ms;
    o.start_align_ms = settings.start_align_ms;
    o.history_from_caller = true;
    return std::unique_ptr<binance::LiveBarFeed>(std::make_unique<clickhouse::ClickHousePollFeed>(std::move(o)));
  }
  return make_error(plan.steps[source.step].path + ": " + source.plugin +
                    " has no live feed; `signal` streams data.binance_futures and data.binance_spot");
}

}  // namespace af::service
