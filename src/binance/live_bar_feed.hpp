#pragma once
// LiveBarFeed: what the live service reads closed bars from, one per data step:
// a Binance market over WebSocket + REST + archive (LiveMarketFeed), or a
// ClickHouse table polled after each close (data.clickhouse_poll). The service
// drives every kind the same way (DESIGN §2 "Gapless warmup"):
//
//   feed.start();                        // begins listening; the anchor comes from the first data seen
//   feed.anchor();                       // non-blocking; set once known
//   feed.begin_history(from, archive);   // history of symbol i is [from[i], anchor)
//   feed.poll(bars, wait_ms);            // history first, then live, per symbol in ts order
//   feed.stop();
//
// Thread-safe: poll() and the accessors may be called from the compute thread
// while the feed's own threads work.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "binance/bar_assembler.hpp"

namespace af::binance {

struct LiveFeedBar {
  uint32_t symbol = 0;  // index in options.universe
  Bar bar;              // origin: kArchive / kRest (history, backfill) or kStream
  bool history = false;  // ts < anchor
  int64_t final_at_ms = 0;  // wall clock when the feed found the bar final (its close, as seen here)
  int64_t final_at_us = 0;  // the same moment on feed_clock_us(), for latency (0: not measured)
};

struct LiveFeedStats {
  uint64_t history_bars = 0;
  uint64_t live_bars = 0;
  uint64_t rest_requests = 0;
  uint64_t rest_failures = 0;
  uint64_t reconnects = 0;
  int64_t last_message_ms = 0;  // wall clock of the newest kline message (0: none yet)
  uint64_t rows_read = 0;       // table feeds (data.clickhouse_poll): rows the server returned
  uint64_t archive_files_rejected = 0;  // archive files that passed the checksum but were unreadable (REST instead)
  BarAssemblerStats assembler;
};

// Microseconds on the steady clock: what latencies are measured on.
inline int64_t feed_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class LiveBarFeed {
 public:
  virtual ~LiveBarFeed() = default;
  // Starts the feed's threads. Errors: bad options or URLs.
  virtual Status start() = 0;
  // The anchor A once known: the open time of the first bar the feed saw.
  virtual std::optional<int64_t> anchor() const = 0;
  // History of symbol i is [from[i], anchor); from[i] >= anchor means none.
  // use_archive = false: only the cheap path (REST, or the table itself).
  virtual void begin_history(std::vector<int64_t> from, bool use_archive) = 0;
  // Appends what is ready to `out`, waiting up to wait_ms for something. false
  // once the feed has failed (see error()).
  virtual bool poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) = 0;
  virtual std::optional<Error> error() const = 0;
  // True once every history bar has been queued.
  virtual bool history_done() const = 0;
  virtual LiveFeedStats stats() const = 0;
  // Silence longer than this (since stats().last_message_ms) means the feed is stale.
  virtual int64_t stale_after_ms() const = 0;
  virtual void stop() = 0;
};

}  // namespace af::binance
