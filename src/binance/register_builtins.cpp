#include "binance/register_builtins.hpp"

#include <memory>

#include "common/interval.hpp"
#include "binance/live_market_feed.hpp"
#include "vision/vision_source.hpp"

namespace af::binance {
namespace {

registry::Descriptor binance_descriptor(const std::string& name, const std::string& venue) {
  registry::Descriptor d;
  d.name = name;
  d.kind = registry::PluginKind::kData;
  d.summary = "Binance " + venue + " klines: bulk Vision history, then the live kline stream";
  d.doc =
      "Closed klines of every symbol in `universe` at `interval`. In `replay --data DIR` the bars come "
      "from a Binance Vision mirror under DIR (`data/" +
      std::string(name == "data.binance_spot" ? "spot" : "futures/um") +
      "/{monthly|daily}/klines/SYM/INT/SYM-INT-DATE.zip`, checked against `.CHECKSUM`): monthly files, "
      "then daily files for days no monthly file covers; duplicates are dropped (the first file's row "
      "wins), a missing file is a real gap. Each bar's `ts` is its open time. Both Vision dialects are "
      "read: header or not, ms or µs timestamps.";
  d.params = {
      registry::ParamSpec{.name = "universe",
                          .type = registry::ParamType::kSymbolList,
                          .required = true,
                          .doc = "symbols, as Binance writes them (BTCUSDT)"},
      registry::ParamSpec{.name = "interval",
                          .type = registry::ParamType::kInterval,
                          .required = true,
                          .doc = "kline interval of the produced frame (1m ... 1d)"},
  };
  d.input = registry::InputKind::kNone;
  d.output = registry::OutputKind::kFrame;
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = "1";
  d.frame_interval = [](const registry::Params& p, int64_t, std::string& error) -> std::optional<int64_t> {
    auto ms = parse_interval(p.get_string("interval"));
    if (!ms) error = "unknown interval '" + p.get_string("interval") + "'";
    return ms;
  };
  return d;
}

DataSourceRegistry::Factory vision_factory(vision::VisionMarket market) {
  return [market](const DataSourceContext& ctx) -> Result<std::unique_ptr<DataSource>> {
    if (ctx.data_dir.empty()) return make_error(ctx.plugin + ": live streaming is not available in replay");
    int64_t interval = ctx.interval_ms;
    if (interval <= 0) {
      auto parsed = parse_interval(ctx.params.get_string("interval"));
      if (!parsed) return make_error(ctx.plugin + ": unknown interval '" + ctx.params.get_string("interval") + "'");
      interval = *parsed;
    }
    return std::unique_ptr<DataSource>(std::make_unique<vision::VisionSource>(ctx.data_dir, market, interval, ctx.bar_cache));
  };
}

// The live feed: the market's kline stream, with history from the archive and REST.
LiveFeedFactory live_factory(BinanceMarket market) {
  return [market](const DataSourceContext& ctx) -> Result<std::unique_ptr<LiveFeed>> {
    if (!ctx.live) return make_error(ctx.plugin + ": a live feed needs the live service's settings");
    const LiveFeedSettings& live = *ctx.live;
    LiveMarketFeedOptions o;
    o.market = market;
    o.universe = ctx.universe;
    o.interval_ms = ctx.interval_ms;
    o.ws_url = live.binance_ws_url;
    o.rest_url = live.binance_rest_url;
    o.vision_url = live.binance_vision_url;
    o.base_url = live.binance_base_url;
    o.cache_dir = live.cache_dir;
    o.ca_file = live.ca_file;
    o.buffer_ms = live.buffer_ms;
    o.anchor_timeout_ms = live.anchor_timeout_ms;
    o.stale_after_ms = live.stale_after_ms;
    return std::unique_ptr<LiveFeed>(std::make_unique<LiveMarketFeed>(std::move(o)));
  };
}

}  // namespace

void register_builtins(DataSourceRegistry& registry) {
  registry.add(binance_descriptor("data.binance_futures", "USD-M futures"), vision_factory(vision::VisionMarket::kFuturesUm),
               {.live_feed = live_factory(BinanceMarket::kFutures)});
  registry.add(binance_descriptor("data.binance_spot", "spot"), vision_factory(vision::VisionMarket::kSpot),
               {.live_feed = live_factory(BinanceMarket::kSpot)});
}

}  // namespace af::binance
