#pragma once
// ClickHousePollFeed: the live feed of data.clickhouse_poll. Bars come from a
// ClickHouse table that something else fills (an ingester, another service);
// this feed only reads it (ClickHouseBarTable), so a bar is never invented.
//
//   anchor A = the open time of the bar in progress when start() is called
//              (bucket_start(now, interval)): the first bar not yet closed;
//   history  = the table's bars in [from[i], A) (begin_history);
//   live     = the table polled at each close + buffer_ms: every closed bar with
//              ts >= A, per symbol in ts order, each once.
//
// A bar not in the table by its close + buffer is logged and counted as a gap
// once, and asked for again at every poll (every min(interval, 10 s) while one
// is late); once a later bar of that symbol is there, the missing one is a real
// gap and the symbol moves on. History bars come before any live bar.
//
// Stats: requests = queries sent, request_failures = those that failed,
// rows_read, last_data_ms = the last query answered, missing_bars = late bars
// (each once), real_gaps = bars skipped, duplicates/revisions = second rows of a
// (symbol, ts).
//
// Threads: one worker thread polls; poll() and the accessors (QueuedLiveFeed)
// are thread-safe and called from the service's compute thread; start/stop from
// the owner's thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clickhouse/clickhouse_bar_table.hpp"
#include "runtime/data_source.hpp"
#include "runtime/queued_live_feed.hpp"

namespace af::clickhouse {

struct ClickHousePollFeedOptions {
  ClickHouseBarTableConfig table;
  std::vector<std::string> universe;
  int64_t interval_ms = 60'000;
  int64_t buffer_ms = 60'000;  // grace after a close before a missing bar counts as late
  int64_t stale_after_ms = 0;  // 0: 3 x interval + buffer
  // Rows one query may return, about: the symbols of a long history are split
  // over several queries.
  int64_t max_rows_per_query = 200'000;
  // Tests only: poll every poll_every_ms of real time instead of at the closes,
  // and read "now" from `clock` (ms since the epoch) instead of the system clock,
  // so that a test walks through 1m bars in milliseconds.
  int64_t poll_every_ms = 0;
  std::function<int64_t()> clock;
};

class ClickHousePollFeed final : public QueuedLiveFeed {
 public:
  explicit ClickHousePollFeed(ClickHousePollFeedOptions options);
  ~ClickHousePollFeed() override;

  // Sets the anchor and starts the worker, which waits for begin_history()
  // (use_archive is moot: the table is the only source). Errors: empty universe,
  // no interval, bad URL. A table that is missing or lacks a column fails the
  // feed at the first query (error()); an unreachable server is not an error:
  // the feed keeps asking.
  Status start() override;
  int64_t stale_after_ms() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The live feed of a data.clickhouse_poll step (its registry entry's live_feed).
LiveFeedFactory clickhouse_poll_feed_factory();

}  // namespace af::clickhouse
