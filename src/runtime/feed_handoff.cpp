#include "runtime/feed_handoff.hpp"

#include <algorithm>
#include <chrono>

#include "common/log.hpp"
#include "common/time.hpp"

namespace af {

FeedHandoff::FeedHandoff(std::string log_name, std::string log_label)
    : log_name_(std::move(log_name)), log_label_(std::move(log_label)) {}

void FeedHandoff::set_anchor(int64_t anchor) {
  std::lock_guard lock(mutex_);
  anchor_ = anchor;
  output_cv_.notify_all();
}

void FeedHandoff::fail(Error error) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  logger(log_name_)->error("{} failed error={}", log_label_, error.message);
  if (!failure_) failure_ = std::move(error);
  output_cv_.notify_all();
}

void FeedHandoff::push(std::span<const LiveFeedBar> bars) {
  if (bars.empty()) return;
  const int64_t now = now_ms();
  const int64_t now_us = feed_clock_us();
  std::lock_guard lock(mutex_);
  for (const LiveFeedBar& b : bars) {
    queue_.push_back(b);
    if (b.final_at_us == 0) {
      queue_.back().final_at_ms = now;
      queue_.back().final_at_us = now_us;
    }
    if (b.history) ++stats_.history_bars;
    else ++stats_.live_bars;
  }
  output_cv_.notify_all();
}

void FeedHandoff::mark_history_done() {
  std::lock_guard lock(mutex_);
  history_done_ = true;
  output_cv_.notify_all();
}

std::optional<HistoryRequest> FeedHandoff::wait_history_request() {
  std::unique_lock lock(mutex_);
  worker_cv_.wait(lock, [&] { return stopping_ || history_request_.has_value(); });
  if (stopping_) return std::nullopt;
  return history_request_;
}

bool FeedHandoff::sleep_for(int64_t ms) {
  std::unique_lock lock(mutex_);
  worker_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(ms, 0)), [&] { return stopping_; });
  return stopping_;
}

bool FeedHandoff::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool FeedHandoff::stopping_or_failed() const {
  std::lock_guard lock(mutex_);
  return stopping_ || failure_.has_value();
}

std::optional<int64_t> FeedHandoff::anchor() const {
  std::lock_guard lock(mutex_);
  return anchor_;
}

std::optional<int64_t> FeedHandoff::wait_for_anchor(int64_t wait_ms) {
  std::unique_lock lock(mutex_);
  output_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait_ms, 0)),
                      [&] { return anchor_.has_value() || failure_.has_value() || stopping_; });
  return anchor_;
}

Result<int64_t> FeedHandoff::wait_anchor(const std::string& what) {
  std::unique_lock lock(mutex_);
  output_cv_.wait(lock, [&] { return anchor_.has_value() || failure_.has_value() || stopping_; });
  if (anchor_) return *anchor_;
  if (failure_) return *failure_;
  return make_error(what + ": stopped before the anchor");
}

void FeedHandoff::begin_history(std::vector<int64_t> from, bool use_archive) {
  std::lock_guard lock(mutex_);
  history_request_ = HistoryRequest{std::move(from), use_archive};
  worker_cv_.notify_all();
}

bool FeedHandoff::poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) {
  std::unique_lock lock(mutex_);
  output_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait_ms, 0)),
                      [&] { return !queue_.empty() || failure_.has_value() || stopping_; });
  if (out.empty()) {
    out.swap(queue_);  // the caller's spare capacity becomes the next queue
  } else {
    out.insert(out.end(), queue_.begin(), queue_.end());
    queue_.clear();
  }
  return !failure_.has_value();
}

std::optional<Error> FeedHandoff::error() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

bool FeedHandoff::history_done() const {
  std::lock_guard lock(mutex_);
  return history_done_;
}

LiveFeedStats FeedHandoff::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void FeedHandoff::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    worker_cv_.notify_all();
    output_cv_.notify_all();
  }
  stop_source_.request_stop();  // ends a download or query in flight, closing its socket
}

}  // namespace af

namespace af {

void FeedHandoff::set_source_time(int64_t source_now_ms) {
  source_offset_ms_.store(source_now_ms - now_ms(), std::memory_order_relaxed);
  has_source_time_.store(true, std::memory_order_release);
}

std::optional<int64_t> FeedHandoff::source_time_ms() const {
  if (!has_source_time_.load(std::memory_order_acquire)) return std::nullopt;
  return now_ms() + source_offset_ms_.load(std::memory_order_relaxed);
}

}  // namespace af
