#pragma once
// LiveMarketFeed: the live feed of data.binance_futures and data.binance_spot:
// FINAL closed bars of one Binance market and interval for a universe, gapless
// from history into the live stream (DESIGN §2 "Gapless warmup", §6).
//
//   LiveMarketFeed feed(options);          // market, universe, interval, endpoints
//   feed.start();                          // opens the WebSocket first, buffers
//   auto anchor = feed.wait_anchor();      // open time of the first kline message (120 s timeout)
//   feed.begin_history(from, true);        // per symbol, from runtime/warmup.hpp's window
//   while (running) feed.poll(bars, 1000); // history [from, anchor), then live, per symbol in ts order
//   feed.stop();
//
// Three parts, one concept each: HistoryLoader (the Binance Vision archive,
// cached on disk, then REST for what it lacks), StreamAssembler (from the anchor
// on, updates through a BarAssembler: x=true, later bar, or REST at close +
// buffer; gaps and every reconnect backfilled over REST before later bars) and
// ExchangeClock (the deadlines' time). Every bar carries its origin.
//
// Threads: the WebSocket client's io thread (parses, queues updates), one worker
// thread (anchor, history, assembly, REST), and the caller's compute thread
// (poll, through QueuedLiveFeed); start/stop from the owner's thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "binance/binance_rest_client.hpp"
#include "runtime/queued_live_feed.hpp"

namespace af::binance {

struct LiveMarketFeedOptions {
  BinanceMarket market = BinanceMarket::kFutures;
  std::vector<std::string> universe;  // BTCUSDT, ...
  int64_t interval_ms = 60'000;
  // Endpoints; empty: $ALPHA_FORGE_BINANCE_{WS,REST,VISION}_URL, else Binance's.
  // ws_url is the combined-stream base without query ("wss://fstream.binance.com/market/stream").
  std::string ws_url, rest_url, vision_url;
  // One base for all three (`--binance-base-url`, $ALPHA_FORGE_BINANCE_BASE_URL),
  // as a simulated exchange serves them: "http://127.0.0.1:28765" gives
  // ws://127.0.0.1:28765/market/stream (futures; /stream for spot), and the base
  // itself for REST and the archive. Precedence: an endpoint's own option, this
  // option, the endpoint's own variable, the base variable, Binance's default.
  std::string base_url;
  std::string cache_dir;  // Vision cache; empty: no archive, REST only
  std::string ca_file;    // empty: $SSL_CERT_FILE, else the system CAs
  int64_t buffer_ms = 60'000;           // grace after a close before REST is asked
  int64_t anchor_timeout_ms = 120'000;  // no kline message by then: error
  int64_t stale_after_ms = 0;           // 0: 20 x the stream cadence (250 ms futures, 2 s spot), at least 10 s
  size_t max_streams_per_connection = 200;
  int64_t rest_weight_budget = 1000;
};

// The endpoints after applying options, environment and defaults.
struct LiveEndpoints {
  std::string ws_url, rest_url, vision_url;
};
LiveEndpoints resolve_live_endpoints(const LiveMarketFeedOptions& options);

class LiveMarketFeed final : public QueuedLiveFeed {
 public:
  explicit LiveMarketFeed(LiveMarketFeedOptions options);
  ~LiveMarketFeed() override;

  // Opens the WebSocket (buffering) and starts the worker. Errors: bad options/URLs.
  // The worker fails the feed when no kline message comes within
  // anchor_timeout_ms (an error naming the WebSocket URL); after the anchor it
  // waits for begin_history() (history of symbol i is [from[i], anchor); from[i]
  // >= anchor means none; use_archive = false asks REST only, so that a short
  // catch-up after a restart fetches no archive file again).
  Status start() override;
  int64_t stale_after_ms() const override;

 private:
  void on_stop() override;
  void after_stop() override;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::binance
