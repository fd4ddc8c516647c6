#pragma once
// QueuedLiveFeed: the base of every live feed that works on a thread of its own
// and hands bars over through a queue (LiveMarketFeed, ClickHousePollFeed). It
// owns the FeedHandoff and the worker thread, and implements the LiveFeed
// methods the compute thread calls; a subclass implements start() (which calls
// start_worker) and stale_after_ms(), and its worker produces through handoff().
//
// Threads: the worker (the subclass's body), any io thread of the subclass
// (through handoff()), the compute thread (the LiveFeed methods), the owner
// (start, stop). A subclass's destructor calls stop(): the worker uses the
// subclass's members.

#include <functional>
#include <string>
#include <thread>

#include "runtime/feed_handoff.hpp"
#include "runtime/live_feed.hpp"

namespace af {

class QueuedLiveFeed : public LiveFeed {
 public:
  ~QueuedLiveFeed() override;
  QueuedLiveFeed(const QueuedLiveFeed&) = delete;
  QueuedLiveFeed& operator=(const QueuedLiveFeed&) = delete;

  std::optional<int64_t> anchor() const override { return handoff_.anchor(); }
  std::optional<int64_t> wait_for_anchor(int64_t wait_ms) override { return handoff_.wait_for_anchor(wait_ms); }
  // Blocks until the anchor is known; the feed's failure (e.g. no message within
  // the anchor timeout) otherwise.
  Result<int64_t> wait_anchor() { return handoff_.wait_anchor(error_prefix_); }
  void begin_history(std::vector<int64_t> from, bool use_archive) override {
    handoff_.begin_history(std::move(from), use_archive);
  }
  bool poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) override { return handoff_.poll(out, wait_ms); }
  std::optional<Error> error() const override { return handoff_.error(); }
  bool history_done() const override { return handoff_.history_done(); }
  LiveFeedStats stats() const override { return handoff_.stats(); }
  std::optional<int64_t> source_time_ms() const override { return handoff_.source_time_ms(); }
  // Ends every wait and fetch of the worker (on_stop() wakes the subclass's own
  // waits), joins it, then after_stop(). Idempotent.
  void stop() final;

 protected:
  // `log_name`, `log_label`: see FeedHandoff; `error_prefix` starts the messages
  // of errors the base makes ("live feed" -> "live feed: internal error: ...").
  QueuedLiveFeed(std::string log_name, std::string log_label, std::string error_prefix);

  FeedHandoff& handoff() { return handoff_; }
  const FeedHandoff& handoff() const { return handoff_; }
  // Runs `body` on the worker thread. Its top level: an exception becomes the
  // feed's failure, never std::terminate.
  void start_worker(std::function<void()> body);
  bool worker_started() const { return worker_.joinable(); }
  virtual void on_stop() {}
  virtual void after_stop() {}

 private:
  FeedHandoff handoff_;
  std::string error_prefix_;
  std::thread worker_;
};

}  // namespace af
