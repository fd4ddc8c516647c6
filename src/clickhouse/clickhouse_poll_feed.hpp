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
// Threads: one worker thread polls; poll() and the accessors are thread-safe and
// called from the service's compute thread; start/stop from the owner's thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clickhouse/clickhouse_bar_table.hpp"
#include "binance/live_bar_feed.hpp"

namespace af::clickhouse {

struct ClickHousePollFeedOptions {
  ClickHouseBarTableConfig table;
  std::vector<std::string> universe;
  int64_t interval_ms = 60'000;
  int64_t buffer_ms = 60'000;  // grace after a close before a missing bar counts as late
  int64_t stale_after_ms = 0;  // 0: 3 x interval + buffer
  // Without begin_history(): history starts at A - lookback_ms, moved up to the
  // next multiple of start_align_ms (0: interval).
  bool history_from_caller = true;
  int64_t lookback_ms = 0;
  int64_t start_align_ms = 0;
  // Rows one query may return, about: the symbols of a long history are split
  // over several queries.
  int64_t max_rows_per_query = 200'000;
  // Tests only: poll every poll_every_ms of real time instead of at the closes,
  // and read "now" from `clock` (ms since the epoch) instead of the system clock,
  // so that a test walks through 1m bars in milliseconds.
  int64_t poll_every_ms = 0;
  std::function<int64_t()> clock;
};

class ClickHousePollFeed final : public binance::LiveBarFeed {
 public:
  explicit ClickHousePollFeed(ClickHousePollFeedOptions options);
  ~ClickHousePollFeed() override;
  ClickHousePollFeed(const ClickHousePollFeed&) = delete;
  ClickHousePollFeed& operator=(const ClickHousePollFeed&) = delete;

  // Sets the anchor and starts the worker. Errors: empty universe, no interval, bad URL.
  Status start() override;
  std::optional<int64_t> anchor() const override;
  void begin_history(std::vector<int64_t> from, bool use_archive) override;
  bool poll(std::vector<binance::LiveFeedBar>& out, int64_t wait_ms) override;
  // Set when the table is missing or lacks a column (found at the first query);
  // an unreachable server is not an error: the feed keeps asking.
  std::optional<Error> error() const override;
  bool history_done() const override;
  // rest_requests: queries sent; rest_failures: those that failed; rows_read;
  // last_message_ms: the last successful query; assembler.gaps_detected: late
  // bars (each once), assembler.real_gaps: bars skipped, duplicates/revisions:
  // second rows of a (symbol, ts).
  binance::LiveFeedStats stats() const override;
  int64_t stale_after_ms() const override;
  void stop() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::clickhouse
