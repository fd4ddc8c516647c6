#pragma once
// LiveFeed: what the live service reads one data step's closed bars from, the
// live counterpart of DataSource. Every data plugin that can stream says how to
// build its feed in its registry entry (DataPluginExtras::live_feed, see
// data_source.hpp): a Binance market over WebSocket + REST + archive, a polled
// ClickHouse table, ... The service drives every kind the same way (DESIGN §2
// "Gapless warmup"):
//
//   feed.start();                        // begins listening; the anchor comes from the first data seen
//   feed.anchor();                       // non-blocking; set once known (wait_for_anchor blocks)
//   feed.begin_history(from, archive);   // history of symbol i is [from[i], A) (see warmup.hpp)
//   feed.poll(bars, wait_ms);            // history first, then live, per symbol in ts order
//   feed.on_settled();                   // what poll() returned is processed and settled in the sinks
//   feed.stop();
//
// Thread-safe: poll() and the accessors may be called from the compute thread
// while the feed's own threads work; start/stop from the owner's thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"

namespace af {

struct LiveFeedBar {
  uint32_t symbol = 0;      // index in the feed's universe
  Bar bar;                  // origin: kArchive / kRest (history, backfill) or kStream
  bool history = false;     // ts < anchor
  int64_t final_at_ms = 0;  // wall clock when the feed found the bar final (its close, as seen here)
  int64_t final_at_us = 0;  // the same moment on feed_clock_us(), for latency (0: not measured)
};

// What a feed did, in terms every kind shares. A field a kind has no use for
// stays 0; no field means one thing for one kind and another for the next.
struct LiveFeedStats {
  // Bars handed to the compute thread.
  uint64_t history_bars = 0;  // before the anchor (warmup, catch-up)
  uint64_t live_bars = 0;     // from the anchor on
  uint64_t live_bars_fetched = 0;  // live bars the push channel lacked, fetched on request (Binance: over REST)
  // Requests to the source's pull interface (Binance: REST kline pages; a table: queries).
  uint64_t requests = 0;
  uint64_t request_failures = 0;
  uint64_t rows_read = 0;    // rows a queried table returned
  uint64_t reconnects = 0;   // push channel (WebSocket) reconnects
  int64_t last_data_ms = 0;  // wall clock of the newest sign of life: a stream message, a query answered (0: none yet)
  uint64_t archive_files_rejected = 0;  // archive files that passed the checksum but were unreadable (REST instead)
  // The data's faults, as the feed met them.
  uint64_t duplicates = 0;     // identical re-deliveries of a bar, dropped
  uint64_t revisions = 0;      // different re-deliveries of a final bar, ignored (the first wins)
  uint64_t missing_bars = 0;   // bars not there when due (each counted once), then asked for again
  uint64_t real_gaps = 0;      // bars the source does not have: skipped, the symbol moves on
  uint64_t future_bars = 0;    // updates for a bar not yet open at the source's clock (held back)
  // Push-channel updates of an open bar that a newer one replaced while they
  // waited for the feed's worker (busy loading history or on a slow request).
  uint64_t superseded_updates = 0;
};

// What the live service tells every feed it builds: the command line's
// endpoints and trust store, the archive cache, the pipeline's scheduling. A
// feed reads what concerns it (today only Binance has endpoints to override).
struct LiveFeedSettings {
  // "" = $ALPHA_FORGE_BINANCE_{WS,REST,VISION,BASE}_URL, else Binance's (see LiveMarketFeedOptions).
  std::string binance_ws_url, binance_rest_url, binance_vision_url, binance_base_url;
  std::string ca_file;                  // "" = $SSL_CERT_FILE, else the system CAs
  std::string cache_dir;                // the archive cache ("" = none)
  int64_t buffer_ms = 60'000;           // scheduling.buffer_minutes: grace after a close
  int64_t anchor_timeout_ms = 120'000;  // no data by then: the feed fails
  int64_t stale_after_ms = 0;           // 0: the feed's default
};

// Microseconds on the steady clock: what latencies are measured on.
inline int64_t feed_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class LiveFeed {
 public:
  virtual ~LiveFeed() = default;
  // Starts the feed's threads. Errors: bad options or URLs.
  virtual Status start() = 0;
  // The anchor A once known: the open time of the first bar the feed saw.
  virtual std::optional<int64_t> anchor() const = 0;
  // The anchor, waiting up to wait_ms for it (a condition-variable wait); nullopt
  // if it is not known by then, or the feed failed or stopped (see error()).
  virtual std::optional<int64_t> wait_for_anchor(int64_t wait_ms) = 0;
  // History of symbol i is [from[i], anchor); from[i] >= anchor means none.
  // use_archive = false: only the cheap path (REST, or the table itself). Once.
  virtual void begin_history(std::vector<int64_t> from, bool use_archive) = 0;
  // Appends what is ready to `out`, waiting up to wait_ms for something. false
  // once the feed has failed (see error()).
  virtual bool poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) = 0;
  virtual std::optional<Error> error() const = 0;
  // True once every history bar has been queued.
  virtual bool history_done() const = 0;
  virtual LiveFeedStats stats() const = 0;
  // Silence longer than this (since stats().last_data_ms) means the feed is stale.
  virtual int64_t stale_after_ms() const = 0;
  // The source's clock, ms since the epoch: the exchange's time as the feed
  // estimates it (Binance: ExchangeClock), which `timer.<interval>` events run
  // on while no bar comes. nullopt (the default) while the feed has no reading,
  // or for a feed without a clock of its own: timers then move with the bars only.
  virtual std::optional<int64_t> source_time_ms() const { return std::nullopt; }
  // Every bar poll() returned so far has been processed and every record it
  // produced is settled in every sink (SignalEmitter::settled() at a bar
  // boundary). A feed whose source wants acknowledgements (the bus) gives them
  // now; the others have nothing to do. Compute thread.
  virtual void on_settled() {}
  virtual void stop() = 0;
};

}  // namespace af
