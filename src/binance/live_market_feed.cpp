#include "binance/live_market_feed.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <stop_token>
#include <thread>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "binance/binance_ws_client.hpp"
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

struct LiveMarketFeed::Impl {
  // What the io thread hands to the worker.
  struct InboxItem {
    bool is_event = false;
    KlineUpdate update;
    WsEvent event;
  };

  LiveMarketFeedOptions options;
  LiveEndpoints endpoints;
  std::unique_ptr<BinanceWsClient> ws;
  std::thread worker;

  mutable std::mutex mutex;
  std::condition_variable inbox_cv;   // worker waits for updates
  std::condition_variable output_cv;  // poll waits for bars; wait_anchor for the anchor
  std::deque<InboxItem> inbox;
  std::deque<LiveFeedBar> output;
  std::optional<int64_t> anchor;
  std::optional<Error> failure;
  bool history_done = false;
  bool stopping = false;
  std::optional<std::vector<int64_t>> caller_history;  // begin_history()
  bool caller_use_archive = true;
  LiveFeedStats stats;
  int64_t started_at = 0;
  // stop() requests it: every blocking fetch (HTTP) and wait of the worker ends at once.
  std::stop_source stop_source;

  void fail(Error e) {
    if (stop_source.stop_requested()) return;  // what a stop interrupts is not a failure
    logger("sources.market")->error("live feed failed error={}", e.message);
    std::lock_guard lock(mutex);
    if (!failure) failure = std::move(e);
    output_cv.notify_all();
  }
  bool should_stop() {
    std::lock_guard lock(mutex);
    return stopping || failure.has_value();
  }
  void push_bars(const std::vector<LiveFeedBar>& bars) {
    if (bars.empty()) return;
    const int64_t now = now_ms();
    const int64_t now_us = feed_clock_us();
    std::lock_guard lock(mutex);
    for (const auto& b : bars) {
      output.push_back(b);
      output.back().final_at_ms = now;
      output.back().final_at_us = now_us;
      if (b.history) ++stats.history_bars;
      else ++stats.live_bars;
    }
    output_cv.notify_all();
  }
  void run();
  Result<std::vector<Bar>> history_of(BinanceRestClient& rest, vision::VisionDownloader* vision, const std::string& symbol,
                                      int64_t from, int64_t to);
  Result<std::vector<Bar>> rest_with_retry(BinanceRestClient& rest, const std::string& symbol, int64_t from, int64_t to);
};

Result<std::vector<Bar>> LiveMarketFeed::Impl::rest_with_retry(BinanceRestClient& rest, const std::string& symbol,
                                                               int64_t from, int64_t to) {
  // History must be exact: transient failures are retried for a while before giving up.
  for (int attempt = 0;; ++attempt) {
    {
      std::lock_guard lock(mutex);
      ++stats.rest_requests;
    }
    auto bars = rest.klines(symbol, options.interval_ms, from, to);
    if (bars || !bars.error().transient || attempt >= 5 || should_stop()) return bars;
    {
      std::lock_guard lock(mutex);
      ++stats.rest_failures;
    }
    logger("sources.market")->warn("history rest failed, retrying symbol={} error={}", symbol, bars.error().message);
    net::sleep_unless_stopped(500 << std::min(attempt, 4), stop_source.get_token());
  }
}

Result<std::vector<Bar>> LiveMarketFeed::Impl::history_of(BinanceRestClient& rest, vision::VisionDownloader* vision,
                                                          const std::string& symbol, int64_t from, int64_t to) {
  std::vector<Bar> bars;
  std::vector<std::pair<int64_t, int64_t>> rest_ranges{{from, to}};
  if (vision) {
    auto archive = vision->fetch(symbol, options.interval_ms, from, to, now_ms());
    if (archive) {
      bars = std::move(archive->bars);
      rest_ranges = std::move(archive->missing);
      {
        std::lock_guard lock(mutex);
        stats.archive_files_rejected += static_cast<uint64_t>(archive->files_rejected);
      }
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
    auto more = rest_with_retry(rest, symbol, a, b);
    if (!more) return more.error();
    bars.insert(bars.end(), more->begin(), more->end());
  }
  std::stable_sort(bars.begin(), bars.end(), [](const Bar& x, const Bar& y) { return x.ts < y.ts; });
  bars.erase(std::unique(bars.begin(), bars.end(), [](const Bar& x, const Bar& y) { return x.ts == y.ts; }), bars.end());
  return bars;
}

void LiveMarketFeed::Impl::run() {
  const int64_t iv = options.interval_ms;
  BinanceRestOptions ro;
  ro.base_url = endpoints.rest_url;
  ro.market = options.market;
  ro.weight_budget = static_cast<int>(options.rest_weight_budget);
  ro.http.ca_file = options.ca_file;
  ro.http.stop = stop_source.get_token();
  BinanceRestClient rest(ro);
  std::unique_ptr<vision::VisionDownloader> vision;
  if (!options.cache_dir.empty()) {
    vision::VisionDownloadOptions vo;
    vo.base_url = endpoints.vision_url;
    vo.cache_dir = options.cache_dir;
    vo.market = options.market == BinanceMarket::kFutures ? vision::VisionMarket::kFuturesUm : vision::VisionMarket::kSpot;
    vo.http.ca_file = options.ca_file;
    vo.http.stop = stop_source.get_token();
    vision = std::make_unique<vision::VisionDownloader>(vo);
  }

  // 1. The anchor: the open time of the first kline message.
  int64_t a = 0;
  {
    std::unique_lock lock(mutex);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.anchor_timeout_ms);
    auto has_update = [&] {
      return stopping || std::any_of(inbox.begin(), inbox.end(), [](const InboxItem& i) { return !i.is_event; });
    };
    if (!inbox_cv.wait_until(lock, deadline, has_update)) {
      lock.unlock();
      fail(make_error("live feed: no kline message from " + endpoints.ws_url + " within " +
                          std::to_string(options.anchor_timeout_ms / 1000) + " s",
                      true));
      return;
    }
    if (stopping) return;
    for (const auto& i : inbox) {
      if (!i.is_event) {
        a = i.update.bar.ts;
        break;
      }
    }
    anchor = a;
    output_cv.notify_all();
  }
  logger("sources.market")->info("live feed anchor={} ws={}", format_iso8601(a), endpoints.ws_url);

  // Exchange time: the REST server time's offset from the local clock, moved
  // forward by the event times (E) of the stream, so that deadlines follow the
  // exchange even when its clock runs faster than ours (the simulated exchange at
  // speed) or the local clock drifts. An E is only believed when it is consistent
  // with its own bar (between its open and two intervals later): a stray
  // timestamp cannot move the clock.
  // An E further ahead of the clock than a jump bound is only believed once the
  // REST server time confirms it (asked at most once a second): one future-dated
  // frame cannot move the clock, a clock that fell behind (a pause, a fast
  // simulated exchange) is set right.
  int64_t offset = 0;
  if (auto t = rest.server_time()) offset = *t - now_ms();
  int64_t newest_event = 0, newest_event_wall = 0, last_time_check = 0;
  const int64_t max_clock_jump = std::max<int64_t>(2 * iv, 10'000);
  auto exchange_now = [&] {
    const int64_t wall = now_ms();
    int64_t t = wall + offset;
    if (newest_event > 0) t = std::max(t, newest_event + (wall - newest_event_wall));
    return t;
  };
  auto observe_event_time = [&](const KlineUpdate& u) {
    if (u.event_time <= newest_event || u.event_time < u.bar.ts || u.event_time > u.bar.ts + 2 * iv) return;
    if (u.event_time > exchange_now() + max_clock_jump) {
      if (now_ms() - last_time_check < 1000) return;
      last_time_check = now_ms();
      auto t = rest.server_time();
      if (!t) return;
      offset = *t - now_ms();
      if (u.event_time > exchange_now() + max_clock_jump) return;
    }
    newest_event = u.event_time;
    newest_event_wall = now_ms();
  };

  // 2. History [start, anchor), symbol by symbol.
  const int64_t align = options.start_align_ms > 0 ? options.start_align_ms : iv;
  int64_t start = a - options.lookback_ms;
  start = bucket_start(start, align) == start ? start : bucket_start(start, align) + align;
  std::vector<int64_t> from(options.universe.size(), start);
  bool use_archive = true;
  if (options.history_from_caller) {
    std::unique_lock lock(mutex);
    inbox_cv.wait(lock, [&] { return stopping || caller_history.has_value(); });
    if (stopping) return;
    if (caller_history->size() != from.size()) {
      lock.unlock();
      fail(make_error("live feed: begin_history got " + std::to_string(caller_history->size()) +
                      " starts for a universe of " + std::to_string(from.size())));
      return;
    }
    from = *caller_history;
    use_archive = caller_use_archive;
  }
  for (uint32_t s = 0; s < options.universe.size(); ++s) {
    if (should_stop()) return;
    if (from[s] >= a) continue;
    auto bars = history_of(rest, use_archive ? vision.get() : nullptr, options.universe[s], from[s], a);
    if (!bars) {
      fail(bars.error());
      return;
    }
    std::vector<LiveFeedBar> out;
    out.reserve(bars->size());
    for (const Bar& b : *bars) out.push_back(LiveFeedBar{s, b, true});
    push_bars(out);
  }
  {
    std::lock_guard lock(mutex);
    history_done = true;
  }

  // 3. The stream, from the anchor on, buffered updates first.
  BarAssemblerOptions ao;
  ao.interval_ms = iv;
  ao.buffer_ms = options.buffer_ms;
  BarAssembler assembler(options.universe.size(), ao);
  for (uint32_t s = 0; s < options.universe.size(); ++s) assembler.start(s, a);
  AssemblerOutput out;
  std::deque<FetchRequest> fetches;
  auto flush = [&] {
    std::vector<LiveFeedBar> bars;
    for (const auto& f : out.bars) bars.push_back(LiveFeedBar{f.symbol, f.bar, false});
    push_bars(bars);
    fetches.insert(fetches.end(), out.requests.begin(), out.requests.end());
    out.clear();
    std::lock_guard lock(mutex);
    stats.assembler = assembler.stats();
  };
  int64_t last_tick = 0;
  while (true) {
    std::deque<InboxItem> batch;
    {
      std::unique_lock lock(mutex);
      inbox_cv.wait_for(lock, std::chrono::milliseconds(fetches.empty() ? 250 : 0),
                        [&] { return stopping || !inbox.empty(); });
      if (stopping) return;
      batch.swap(inbox);
    }
    for (auto& item : batch) {
      if (!item.is_event) {
        if (item.update.interval_ms == iv) {
          observe_event_time(item.update);
          assembler.on_update(item.update.symbol_index, item.update.bar, item.update.closed, exchange_now(), out);
        }
      } else if (item.event.kind == WsEventKind::kReconnected) {
        {
          std::lock_guard lock(mutex);
          ++stats.reconnects;
        }
        assembler.on_reconnect(exchange_now(), out);
      }
    }
    const int64_t now = exchange_now();
    if (now - last_tick >= 1000) {
      assembler.on_tick(now, out);
      last_tick = now;
    }
    flush();
    // One REST fetch per loop, so that stream updates keep flowing in between.
    if (!fetches.empty()) {
      const FetchRequest r = fetches.front();
      fetches.pop_front();
      {
        std::lock_guard lock(mutex);
        ++stats.rest_requests;
      }
      auto bars = rest.klines(options.universe[r.symbol], iv, r.from, r.to);
      if (bars) {
        assembler.on_rest(r.symbol, r.from, r.to, *bars, exchange_now(), out);
        flush();
      } else {
        {
          std::lock_guard lock(mutex);
          ++stats.rest_failures;
        }
        // The assembler asks again after its retry period; those bars wait.
        logger("sources.market")
            ->warn("backfill failed symbol={} from={} to={} reason={} error={}", options.universe[r.symbol],
                   format_iso8601(r.from), format_iso8601(r.to), fetch_reason_name(r.reason), bars.error().message);
        if (!bars.error().transient) {
          fail(bars.error());
          return;
        }
      }
    }
  }
}

LiveMarketFeed::LiveMarketFeed(LiveMarketFeedOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->endpoints = resolve_live_endpoints(impl_->options);
}

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
        std::lock_guard lock(im.mutex);
        im.stats.last_message_ms = now_ms();
        im.inbox.push_back(Impl::InboxItem{false, u, {}});
        im.inbox_cv.notify_one();
      },
      [&im](const WsEvent& e) {
        if (e.kind == WsEventKind::kFailed) {
          im.fail(make_error("live feed: " + e.detail));
          return;
        }
        std::lock_guard lock(im.mutex);
        im.inbox.push_back(Impl::InboxItem{true, {}, e});
        im.inbox_cv.notify_one();
      });
  if (auto st = im.ws->start(); !st) return st;
  im.started_at = now_ms();
  im.worker = std::thread([&im] {
    // The thread's top level: an exception becomes the feed's failure, never std::terminate.
    try {
      im.run();
    } catch (const std::exception& e) {
      im.fail(make_error(std::string("live feed: internal error: ") + e.what()));
    } catch (...) {
      im.fail(make_error("live feed: internal error: unknown exception"));
    }
  });
  return {};
}

Result<int64_t> LiveMarketFeed::wait_anchor() {
  Impl& im = *impl_;
  std::unique_lock lock(im.mutex);
  im.output_cv.wait(lock, [&] { return im.anchor.has_value() || im.failure.has_value() || im.stopping; });
  if (im.anchor) return *im.anchor;
  if (im.failure) return *im.failure;
  return make_error("live feed: stopped before the anchor");
}

void LiveMarketFeed::begin_history(std::vector<int64_t> from, bool use_archive) {
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  im.caller_history = std::move(from);
  im.caller_use_archive = use_archive;
  im.inbox_cv.notify_all();
}

bool LiveMarketFeed::poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) {
  Impl& im = *impl_;
  std::unique_lock lock(im.mutex);
  im.output_cv.wait_for(lock, std::chrono::milliseconds(wait_ms),
                        [&] { return !im.output.empty() || im.failure.has_value() || im.stopping; });
  while (!im.output.empty()) {
    out.push_back(im.output.front());
    im.output.pop_front();
  }
  return !im.failure.has_value();
}

std::optional<Error> LiveMarketFeed::error() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failure;
}

std::optional<int64_t> LiveMarketFeed::anchor() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->anchor;
}

bool LiveMarketFeed::history_done() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->history_done;
}

int64_t LiveMarketFeed::stale_after_ms() const {
  const auto& o = impl_->options;
  const int64_t cadence = o.market == BinanceMarket::kFutures ? 250 : 2000;  // Binance's kline push interval
  return o.stale_after_ms > 0 ? o.stale_after_ms : std::max<int64_t>(10'000, 20 * cadence);
}

LiveFeedStats LiveMarketFeed::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

void LiveMarketFeed::stop() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mutex);
    im.stopping = true;
    im.inbox_cv.notify_all();
    im.output_cv.notify_all();
  }
  im.stop_source.request_stop();  // ends a download or REST request in flight, closing its socket
  if (im.worker.joinable()) im.worker.join();
  if (im.ws) im.ws->stop();
}

}  // namespace af::binance
