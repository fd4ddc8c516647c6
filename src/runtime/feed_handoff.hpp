#pragma once
// FeedHandoff: where a live feed's own threads hand what they found to the
// compute thread, under one mutex: the queue of final bars, the anchor, the first
// failure, "history done", the begin-history request and the feed's stats. Every
// queued feed (QueuedLiveFeed) owns one; its producer side is called from the
// feed's worker and io threads, its consumer side from the compute thread through
// the LiveFeed methods. stop() is the owner's.
//
// The queue is two vectors that trade places: poll() swaps the caller's empty
// batch for the queue, so a steady stream of bars allocates nothing once both
// have grown to a batch's size.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "runtime/live_feed.hpp"

namespace af {

// What begin_history() asked for (see LiveFeed::begin_history).
struct HistoryRequest {
  std::vector<int64_t> from;  // per symbol of the universe
  bool use_archive = true;
};

class FeedHandoff {
 public:
  // `log_name`: the module logger a failure is logged on; `log_label`: how the
  // log line names the feed ("live feed" -> "live feed failed error=...").
  FeedHandoff(std::string log_name, std::string log_label);
  FeedHandoff(const FeedHandoff&) = delete;
  FeedHandoff& operator=(const FeedHandoff&) = delete;

  // ---- the feed's threads
  void set_anchor(int64_t anchor);
  // The first failure wins and ends poll()'s success; what a stop interrupts is
  // not a failure (ignored once stop() was called).
  void fail(Error error);
  // Queues bars for poll(), stamped with this moment (final_at_ms/us) unless the
  // feed set an earlier one (a bus feed: the moment ingest's feed found the bar
  // final), and counted as history or live bars.
  void push(std::span<const LiveFeedBar> bars);
  void mark_history_done();
  // The source's clock as the feed reads it now (ms): kept as an offset from the
  // local clock, so that source_time_ms() moves on between readings.
  void set_source_time(int64_t source_now_ms);
  // Blocks until begin_history() (its request) or stop() (nullopt).
  std::optional<HistoryRequest> wait_history_request();
  // Sleeps up to `ms` of real time; returns at once on stop(): true then.
  bool sleep_for(int64_t ms);
  bool stopping() const;
  // Stopping, or failed already: a worker's retry loop ends.
  bool stopping_or_failed() const;
  // Every blocking fetch of the feed takes it: stop() ends a request in flight.
  std::stop_token stop_token() const { return stop_source_.get_token(); }
  // Changes the stats under the lock: f(LiveFeedStats&).
  template <class F>
  void update_stats(F&& f) {
    std::lock_guard lock(mutex_);
    f(stats_);
  }

  // ---- the compute thread
  std::optional<int64_t> anchor() const;
  // Waits up to wait_ms for the anchor; nullopt if unknown by then, failed or stopped.
  std::optional<int64_t> wait_for_anchor(int64_t wait_ms);
  // Waits until the anchor is known; the failure (or "stopped before the anchor") otherwise.
  Result<int64_t> wait_anchor(const std::string& what);
  void begin_history(std::vector<int64_t> from, bool use_archive);
  // Moves every queued bar to the end of `out`, waiting up to wait_ms for one.
  // false once the feed has failed.
  bool poll(std::vector<LiveFeedBar>& out, int64_t wait_ms);
  std::optional<Error> error() const;
  bool history_done() const;
  LiveFeedStats stats() const;
  // The local clock plus the offset of the last set_source_time; nullopt before any.
  std::optional<int64_t> source_time_ms() const;

  // ---- the owner
  // Ends every wait above and every fetch that took stop_token(), at once.
  void stop();

 private:
  std::string log_name_, log_label_;
  mutable std::mutex mutex_;
  std::condition_variable worker_cv_;  // the feed's worker: begin_history, sleep_for
  std::condition_variable output_cv_;  // the compute thread: poll, the anchor
  std::vector<LiveFeedBar> queue_;
  std::optional<int64_t> anchor_;
  std::optional<Error> failure_;
  std::optional<HistoryRequest> history_request_;
  bool history_done_ = false;
  bool stopping_ = false;
  LiveFeedStats stats_;
  std::stop_source stop_source_;
  std::atomic<int64_t> source_offset_ms_{0};
  std::atomic<bool> has_source_time_{false};
};

}  // namespace af
