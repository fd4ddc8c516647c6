#pragma once
// RecordMerge: puts the prediction records of several compute threads ("lanes")
// back into one order, the order a single thread produces, for a replay split over
// threads (runtime/threaded_replay.hpp). Each record carries the EventKey of the
// event that caused it; within a lane, records come in key order (records of one
// event in the order they were made). A key belongs to one symbol, a symbol to
// one lane, so keys of different lanes never tie and the merge is exact.
//
// Memory stays bounded: a lane publishes batches into a queue of at most
// `max_batches` and waits while it is full. Every batch carries the lane's
// watermark (every record of an event with a key below it is published), so the
// merge hands a record on as soon as no other lane can still produce an earlier
// one, without waiting for that lane's next record.
//
// Threads: publish/finish from each lane's own thread (one thread per lane);
// drain from one consumer thread. One mutex guards the queues; records are handed
// on outside it.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "runtime/event_key.hpp"
#include "runtime/record.hpp"

namespace af {

struct KeyedRecord {
  EventKey key;
  PredictionRecord record;
};

class RecordMerge {
 public:
  explicit RecordMerge(size_t lanes, size_t max_batches = 16);
  RecordMerge(const RecordMerge&) = delete;
  RecordMerge& operator=(const RecordMerge&) = delete;

  // Lane side. Publishes `batch` (keys ascending, not below earlier batches'),
  // promising that every later record of this lane has a key >= `watermark`.
  // Blocks while the lane already holds max_batches unread batches. `batch` comes
  // back empty (a recycled vector, so a steady run does not allocate).
  void publish(size_t lane, std::vector<KeyedRecord>& batch, EventKey watermark);
  // The lane ends: `batch` is its last records. `failed_at`: the lane failed
  // during (or right after) that event; no lane's record after it is handed on,
  // as one thread would have stopped there. Wakes a lane blocked in publish.
  void finish(size_t lane, std::vector<KeyedRecord>& batch, std::optional<EventKey> failed_at = std::nullopt);
  // The earliest failure so far (lanes poll it to stop early).
  std::optional<EventKey> failed_at() const;

  // Consumer side: hands on every record in key order until every lane has
  // finished. `on_wake` runs on the consumer thread each time the merge wakes (a
  // progress display); either callback may be empty.
  void drain(const std::function<void(const PredictionRecord&)>& deliver, const std::function<void()>& on_wake);

 private:
  struct Lane {
    // Shared, under mutex_.
    std::deque<std::vector<KeyedRecord>> full;
    std::vector<std::vector<KeyedRecord>> spare;
    EventKey watermark = EventKey::lowest();
    bool finished = false;
    // The consumer's own.
    std::vector<KeyedRecord> current;
    size_t next = 0;
    bool has_head() const { return next < current.size(); }
  };

  // Moves published batches into exhausted `current`s; false when nothing changed.
  bool refill_locked();

  const size_t max_batches_;
  std::vector<Lane> lanes_;
  mutable std::mutex mutex_;
  std::condition_variable consumer_cv_;
  std::condition_variable producer_cv_;
  uint64_t generation_ = 0;  // bumped by every publish/finish, so the consumer misses no wake-up
  std::optional<EventKey> failed_at_;
};

}  // namespace af
