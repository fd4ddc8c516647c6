#pragma once
// StreamAssembler: the live half of LiveMarketFeed. Kline updates from the
// anchor on go through a BarAssembler; the final bars it releases are handed to
// the compute thread through the feed's FeedHandoff, and the REST fetches it asks
// for (gaps, deadlines, reconnects) wait in a queue the feed's worker serves one
// at a time between batches of updates. Its buffers are kept from call to call:
// a steady stream allocates nothing per bar (tests/unit/binance/
// live_path_allocation_test.cpp). Owned by the feed's worker thread.

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "binance/bar_assembler.hpp"
#include "runtime/feed_handoff.hpp"

namespace af::binance {

class StreamAssembler {
 public:
  // Every symbol of the universe starts at `anchor`.
  StreamAssembler(size_t symbols, BarAssemblerOptions options, int64_t anchor, FeedHandoff& handoff);

  // One update of the feed's interval; `now` is exchange time.
  void on_update(uint32_t symbol, const Bar& bar, bool closed, int64_t now);
  // The stream reconnected: the bars since the last final one are asked for again.
  void on_reconnect(int64_t now);
  // Deadlines (close + buffer), checked at most once a second of exchange time.
  void tick(int64_t now);
  // Hands the bars released since the last flush to the compute thread, queues
  // the fetches asked for and publishes the assembler's counters.
  void flush();

  // The next REST fetch to make, oldest first.
  std::optional<FetchRequest> next_fetch();
  bool fetch_pending() const { return !fetches_.empty(); }
  // The answer to a fetch (the bars REST returned for [r.from, r.to)).
  void on_rest(const FetchRequest& r, std::span<const Bar> bars, int64_t now);
  // The fetch failed: its bars are asked again after the retry period.
  void on_fetch_failed(const FetchRequest& r, int64_t now);

  const BarAssemblerStats& stats() const { return assembler_.stats(); }

 private:
  BarAssembler assembler_;
  FeedHandoff& handoff_;
  AssemblerOutput out_;
  std::vector<LiveFeedBar> staged_;
  std::deque<FetchRequest> fetches_;
  int64_t last_tick_ = 0;
};

}  // namespace af::binance
