#include "binance/live_market_feed.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "common/log.hpp"
#include "common/time.hpp"
#include "binance/binance_ws_client.hpp"
#include "binance/exchange_clock.hpp"
#include "binance/history_loader.hpp"
#include "binance/stream_assembler.hpp"
#include "binance/update_inbox.hpp"
#include "vision/vision_downloader.hpp"

namespace af::binance {
namespace {

std::string pick(const std::string& option, const char* env, const char* fallback) {
  if (!option.empty()) return option;
  if (const char* v = std::getenv(env); v && *v) return v;
  return fallback;
}

}  // namespace

LiveEndpoints resolve_live_endpoints(const LiveMarketFeedOptions& o) {
  const bool futures = o.market == BinanceMarket::kFutures;
  std::string base = pick(o.base_url, "ALPHA_FORGE_BINANCE_BASE_URL", "");
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string base_ws;
  if (base.rfind("https://", 0) == 0) base_ws = "wss://" + base.substr(8);
  if (base.rfind("http://", 0) == 0) base_ws = "ws://" + base.substr(7);
  if (!base_ws.empty()) base_ws += futures ? "/market/stream" : "/stream";
  // An endpoint's own option, then the base option, then its own variable, then the base variable.
  auto choose = [&](const std::string& option, const char* env, const std::string& from_base, const char* fallback) {
    if (!option.empty()) return option;
    if (!o.base_url.empty() && !from_base.empty()) return from_base;
    if (const char* v = std::getenv(env); v && *v) return std::string(v);
    if (!from_base.empty()) return from_base;
    return std::string(fallback);
  };
  LiveEndpoints e;
  e.ws_url = choose(o.ws_url, "ALPHA_FORGE_BINANCE_WS_URL", base_ws,
                    futures ? "wss://fstream.binance.com/market/stream" : "wss://stream.binance.com:9443/stream");
  e.rest_url = choose(o.rest_url, "ALPHA_FORGE_BINANCE_REST_URL", base_ws.empty() ? "" : base,
                      futures ? "https://fapi.binance.com" : "https://api.binance.com");
  e.vision_url = choose(o.vision_url, "ALPHA_FORGE_BINANCE_VISION_URL", base_ws.empty() ? "" : base,
                        "https://data.binance.vision");
  return e;
}

// The worker's phases: await the anchor, load the history the caller asks for,
// then assemble the stream.
struct LiveMarketFeed::Impl {
  LiveMarketFeedOptions options;
  LiveEndpoints endpoints;
  FeedHandoff& handoff;
  std::unique_ptr<BinanceWsClient> ws;
  UpdateInbox inbox;

  Impl(LiveMarketFeedOptions o, FeedHandoff& h)
      : options(std::move(o)), endpoints(resolve_live_endpoints(options)), handoff(h) {}

  void run();
  // The open time of the first kline message; nullopt (failed or stopping) when none came in time.
  std::optional<int64_t> await_anchor();
  // History [from[s], anchor) of every symbol, queued; false when the feed stopped or failed.
  bool load_history(BinanceRestClient& rest, vision::VisionDownloader* vision, int64_t anchor);
  // From the anchor on, until stopped or failed.
  void assemble_stream(BinanceRestClient& rest, ExchangeClock& clock, int64_t anchor);
};

std::optional<int64_t> LiveMarketFeed::Impl::await_anchor() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.anchor_timeout_ms);
  auto a = inbox.first_update(deadline);
  if (!a) {
    if (!inbox.closed()) {
      handoff.fail(make_error("live feed: no kline message from " + endpoints.ws_url + " within " +
                                  std::to_string(options.anchor_timeout_ms / 1000) + " s",
                              true));
    }
    return std::nullopt;
  }
  handoff.set_anchor(*a);
  logger("sources.market")->info("live feed anchor={} ws={}", format_iso8601(*a), endpoints.ws_url);
  return a;
}

bool LiveMarketFeed::Impl::load_history(BinanceRestClient& rest, vision::VisionDownloader* vision, int64_t anchor) {
  auto request = handoff.wait_history_request();
  if (!request) return false;
  if (request->from.size() != options.universe.size()) {
    handoff.fail(make_error("live feed: begin_history got " + std::to_string(request->from.size()) +
                            " starts for a universe of " + std::to_string(options.universe.size())));
    return false;
  }
  HistoryLoader loader(rest, vision, options.interval_ms, handoff);
  std::vector<LiveFeedBar> out;
  for (uint32_t s = 0; s < options.universe.size(); ++s) {
    if (handoff.stopping_or_failed()) return false;
    if (request->from[s] >= anchor) continue;
    auto bars = loader.load(options.universe[s], request->from[s], anchor, request->use_archive);
    if (!bars) {
      handoff.fail(bars.error());
      return false;
    }
    out.clear();
    out.reserve(bars->size());
    for (const Bar& b : *bars) out.push_back(LiveFeedBar{s, b, true});
    handoff.push(out);
  }
  handoff.mark_history_done();
  return true;
}

void LiveMarketFeed::Impl::assemble_stream(BinanceRestClient& rest, ExchangeClock& clock, int64_t anchor) {
  const int64_t iv = options.interval_ms;
  BarAssemblerOptions ao;
  ao.interval_ms = iv;
  ao.buffer_ms = options.buffer_ms;
  StreamAssembler stream(options.universe.size(), ao, anchor, handoff);
  std::vector<UpdateInbox::Item> batch;
  // The updates buffered since the anchor come first.
  while (inbox.take(batch, stream.fetch_pending() ? 0 : 250)) {
    for (const UpdateInbox::Item& item : batch) {
      if (!item.is_event) {
        if (item.update.interval_ms == iv) {
          clock.observe(item.update.event_time, item.update.bar.ts);
          stream.on_update(item.update.symbol_index, item.update.bar, item.update.closed, clock.now());
        }
      } else if (item.event.kind == WsEventKind::kReconnected) {
        stream.on_reconnect(clock.now());
      }
    }
    stream.tick(clock.now());
    stream.flush();
    // The compute thread's timers run on it; published only here, once the
    // updates buffered since the anchor have been assembled and their bars queued,
    // so that a tick it makes due never runs before a bar the feed already had.
    handoff.set_source_time(clock.now());
    // One REST fetch per loop, so that stream updates keep flowing in between.
    if (auto r = stream.next_fetch()) {
      handoff.update_stats([](LiveFeedStats& s) { ++s.requests; });
      auto bars = rest.klines(options.universe[r->symbol], iv, r->from, r->to);
      if (bars) {
        stream.on_rest(*r, *bars, clock.now());
        stream.flush();
      } else {
        handoff.update_stats([](LiveFeedStats& s) { ++s.request_failures; });
        // The assembler asks again after its retry period; those bars wait.
        stream.on_fetch_failed(*r, clock.now());
        logger("sources.market")
            ->warn("backfill failed symbol={} from={} to={} reason={} error={}", options.universe[r->symbol],
                   format_iso8601(r->from), format_iso8601(r->to), fetch_reason_name(r->reason),
                   bars.error().message);
        if (!bars.error().transient) {
          handoff.fail(bars.error());
          return;
        }
      }
    }
  }
}

void LiveMarketFeed::Impl::run() {
  BinanceRestOptions ro;
  ro.base_url = endpoints.rest_url;
  ro.market = options.market;
  ro.weight_budget = static_cast<int>(options.rest_weight_budget);
  ro.http.ca_file = options.ca_file;
  ro.http.stop = handoff.stop_token();
  BinanceRestClient rest(ro);
  std::unique_ptr<vision::VisionDownloader> vision;
  if (!options.cache_dir.empty()) {
    vision::VisionDownloadOptions vo;
    vo.base_url = endpoints.vision_url;
    vo.cache_dir = options.cache_dir;
    vo.market = options.market == BinanceMarket::kFutures ? vision::VisionMarket::kFuturesUm
                                                          : vision::VisionMarket::kSpot;
    vo.http.ca_file = options.ca_file;
    vo.http.stop = handoff.stop_token();
    vision = std::make_unique<vision::VisionDownloader>(vo);
  }

  const auto anchor = await_anchor();
  if (!anchor) return;
  ExchangeClock clock(
      options.interval_ms,
      [&rest]() -> std::optional<int64_t> {
        auto t = rest.server_time();
        if (!t) return std::nullopt;
        return *t;
      },
      [] { return now_ms(); });
  clock.sync();
  if (!load_history(rest, vision.get(), *anchor)) return;
  assemble_stream(rest, clock, *anchor);
}

LiveMarketFeed::LiveMarketFeed(LiveMarketFeedOptions options)
    : QueuedLiveFeed("sources.market", "live feed", "live feed"),
      impl_(std::make_unique<Impl>(std::move(options), handoff())) {}

LiveMarketFeed::~LiveMarketFeed() { stop(); }

Status LiveMarketFeed::start() {
  Impl& im = *impl_;
  if (im.ws) return make_error("live feed: already started");
  if (im.options.universe.empty()) return make_error("live feed: empty universe");
  if (im.options.interval_ms <= 0) return make_error("live feed: no interval");
  BinanceWsOptions wo;
  wo.base_url = im.endpoints.ws_url;
  wo.universe = im.options.universe;
  for (const auto& s : im.options.universe) wo.streams.push_back(kline_stream_name(s, im.options.interval_ms));
  wo.max_streams_per_connection = im.options.max_streams_per_connection;
  wo.ca_file = im.options.ca_file;
  wo.stale_after_ms = stale_after_ms();
  im.ws = std::make_unique<BinanceWsClient>(
      wo,
      [&im](const KlineUpdate& u) {
        const bool superseded = im.inbox.push(UpdateInbox::Item{false, u, {}});
        im.handoff.update_stats([superseded](LiveFeedStats& s) {
          s.last_data_ms = now_ms();
          s.superseded_updates += superseded ? 1 : 0;
        });
      },
      [&im](const WsEvent& e) {
        if (e.kind == WsEventKind::kFailed) {
          im.handoff.fail(make_error("live feed: " + e.detail));
          return;
        }
        im.inbox.push(UpdateInbox::Item{true, {}, e});
      });
  if (auto st = im.ws->start(); !st) return st;
  start_worker([&im] { im.run(); });
  return {};
}

int64_t LiveMarketFeed::stale_after_ms() const {
  const auto& o = impl_->options;
  const int64_t cadence = o.market == BinanceMarket::kFutures ? 250 : 2000;  // Binance's kline push interval
  return o.stale_after_ms > 0 ? o.stale_after_ms : std::max<int64_t>(10'000, 20 * cadence);
}

void LiveMarketFeed::on_stop() { impl_->inbox.close(); }

void LiveMarketFeed::after_stop() {
  if (impl_->ws) impl_->ws->stop();
}

}  // namespace af::binance
