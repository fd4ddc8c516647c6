#pragma once
// LiveMarketFeed: what the live service calls to get FINAL closed bars of one
// Binance market and interval for a universe, gapless from history into the live
// stream (DESIGN §2 "Gapless warmup", §6).
//
//   LiveMarketFeed feed(options);          // market, universe, interval, lookback
//   feed.start();                          // opens the WebSocket first, buffers
//   auto anchor = feed.wait_anchor();      // open time of the first kline message (120 s timeout)
//   while (running) feed.poll(bars, 1000); // history [start, anchor), then live, per symbol in ts order
//   feed.stop();
//
// History [start, anchor) comes from the Binance Vision archive (cached on disk),
// with REST for what the archive lacks; from the anchor on, the stream through a
// BarAssembler (x=true, later bar, or REST at close + buffer; gaps and every
// reconnect backfilled over REST before later bars). Every bar carries its origin.
//
// Threads: the WebSocket client's io thread (parses, queues updates), one worker
// thread (history, assembly, REST), and the caller's compute thread (poll). poll()
// and the accessors are thread-safe; start/stop from the owner's thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "binance/bar_assembler.hpp"
#include "binance/binance_rest_client.hpp"
#include "binance/live_bar_feed.hpp"

namespace af::binance {

struct LiveMarketFeedOptions {
  BinanceMarket market = BinanceMarket::kFutures;
  std::vector<std::string> universe;  // BTCUSDT, ...
  int64_t interval_ms = 60'000;
  // History starts at anchor - lookback_ms, moved up to the next multiple of
  // start_align_ms (the coarsest interval of the pipeline; 0: interval_ms).
  int64_t lookback_ms = 0;
  int64_t start_align_ms = 0;
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
  // When set, history waits after the anchor until the caller says where each
  // symbol's history starts (begin_history): the live service decides one anchor
  // for several feeds, and resumes from a snapshot after a restart.
  bool history_from_caller = false;
  int64_t rest_weight_budget = 1000;
};

// The endpoints after applying options, environment and defaults.
struct LiveEndpoints {
  std::string ws_url, rest_url, vision_url;
};
LiveEndpoints resolve_live_endpoints(const LiveMarketFeedOptions& options);

class LiveMarketFeed final : public LiveBarFeed {
 public:
  explicit LiveMarketFeed(LiveMarketFeedOptions options);
  ~LiveMarketFeed() override;
  LiveMarketFeed(const LiveMarketFeed&) = delete;
  LiveMarketFeed& operator=(const LiveMarketFeed&) = delete;

  // Opens the WebSocket (buffering) and starts the worker. Errors: bad options/URLs.
  Status start() override;
  // Blocks until the anchor is known (or anchor_timeout_ms passed: an error naming
  // the WebSocket URL), then returns it.
  Result<int64_t> wait_anchor();
  // With history_from_caller: history of symbol i is [from[i], anchor); from[i] >=
  // anchor means none. use_archive = false asks REST only (a short catch-up after a
  // restart fetches no archive file again). Call once, after wait_anchor().
  void begin_history(std::vector<int64_t> from, bool use_archive) override;
  // The anchor if known yet (non-blocking).
  std::optional<int64_t> anchor() const override;
  // Moves up to what is ready into `out` (appends), waiting up to `wait_ms` for at
  // least one bar. Returns false once the feed has failed (see error()).
  bool poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) override;
  // The fatal error that stopped the feed, if any.
  std::optional<Error> error() const override;
  // True once every history bar has been queued.
  bool history_done() const override;
  LiveFeedStats stats() const override;
  int64_t stale_after_ms() const override;
  void stop() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::binance
