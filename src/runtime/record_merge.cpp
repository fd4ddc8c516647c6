#include "runtime/record_merge.hpp"

#include <algorithm>
#include <utility>

namespace af {

RecordMerge::RecordMerge(size_t lanes, size_t max_batches) : max_batches_(std::max<size_t>(1, max_batches)), lanes_(lanes) {}

void RecordMerge::publish(size_t lane, std::vector<KeyedRecord>& batch, EventKey watermark) {
  std::unique_lock lock(mutex_);
  Lane& l = lanes_[lane];
  // Past a failure nothing is handed on: such a batch is dropped, never waited for.
  if (!batch.empty() && failed_at_ && *failed_at_ < batch.front().key) batch.clear();
  if (!batch.empty()) {
    producer_cv_.wait(lock, [&] { return l.full.size() < max_batches_ || failed_at_; });
    l.full.push_back(std::move(batch));
    batch.clear();
    if (!l.spare.empty()) {
      batch = std::move(l.spare.back());
      l.spare.pop_back();
    }
  }
  if (l.watermark < watermark) l.watermark = watermark;
  ++generation_;
  consumer_cv_.notify_one();
}

void RecordMerge::finish(size_t lane, std::vector<KeyedRecord>& batch, std::optional<EventKey> failed_at) {
  std::lock_guard lock(mutex_);
  Lane& l = lanes_[lane];
  // A lane's last batch may exceed max_batches by one: finishing never waits.
  if (!batch.empty()) l.full.push_back(std::move(batch));
  batch.clear();
  l.finished = true;
  if (failed_at && (!failed_at_ || *failed_at < *failed_at_)) failed_at_ = failed_at;
  ++generation_;
  consumer_cv_.notify_one();
  if (failed_at) producer_cv_.notify_all();
}

std::optional<EventKey> RecordMerge::failed_at() const {
  std::lock_guard lock(mutex_);
  return failed_at_;
}

bool RecordMerge::refill_locked() {
  bool moved = false;
  for (Lane& l : lanes_) {
    // What lies past a failure is never handed on: dropped, so its lane never waits for room.
    if (failed_at_ && l.has_head() && *failed_at_ < l.current[l.next].key) {
      l.next = l.current.size();
      while (!l.full.empty() && *failed_at_ < l.full.front().front().key) l.full.pop_front();
      moved = true;
    }
    if (l.has_head() || l.full.empty()) continue;
    l.current.clear();
    if (l.current.capacity() > 0 && l.spare.size() < max_batches_) l.spare.push_back(std::move(l.current));
    l.current = std::move(l.full.front());
    l.full.pop_front();
    l.next = 0;
    moved = true;
  }
  if (moved) producer_cv_.notify_all();
  return moved;
}

void RecordMerge::drain(const std::function<void(const PredictionRecord&)>& deliver,
                        const std::function<void()>& on_wake) {
  // What a lane without a record at hand promises, copied under the lock: nothing
  // of it below `watermark` is still to come (or nothing at all, once finished).
  struct Bound {
    bool finished = false;
    EventKey watermark;
  };
  std::vector<Bound> bounds(lanes_.size());
  std::unique_lock lock(mutex_);
  while (true) {
    refill_locked();
    const std::optional<EventKey> cap = failed_at_;
    const uint64_t generation = generation_;
    bool done = true;
    for (size_t i = 0; i < lanes_.size(); ++i) {
      const Lane& l = lanes_[i];
      bounds[i] = Bound{l.finished && l.full.empty(), l.watermark};
      const bool waiting = l.has_head() && !(cap && *cap < l.current[l.next].key);
      if (!l.finished || waiting) done = false;
    }
    if (done) break;
    lock.unlock();
    if (on_wake) on_wake();

    bool progressed = false;
    while (true) {
      // The lane holding the earliest record.
      size_t best = lanes_.size();
      for (size_t i = 0; i < lanes_.size(); ++i) {
        if (!lanes_[i].has_head()) continue;
        if (best == lanes_.size() || lanes_[i].current[lanes_[i].next].key < lanes_[best].current[lanes_[best].next].key)
          best = i;
      }
      if (best == lanes_.size()) break;
      // It may go up to the earliest record any other lane can still produce.
      std::optional<EventKey> limit;
      for (size_t i = 0; i < lanes_.size(); ++i) {
        if (i == best) continue;
        const Lane& l = lanes_[i];
        std::optional<EventKey> bound;
        if (l.has_head()) bound = l.current[l.next].key;
        else if (!bounds[i].finished) bound = bounds[i].watermark;
        if (bound && (!limit || *bound < *limit)) limit = bound;
      }
      Lane& b = lanes_[best];
      const size_t before = b.next;
      while (b.has_head()) {
        const EventKey& key = b.current[b.next].key;
        if ((limit && !(key < *limit)) || (cap && *cap < key)) break;
        if (deliver) deliver(b.current[b.next].record);
        ++b.next;
      }
      if (b.next == before) break;  // blocked: wait for another lane
      progressed = true;
      if (!b.has_head()) break;  // its next batch is under the lock
    }

    lock.lock();
    if (!progressed && generation == generation_) consumer_cv_.wait(lock, [&] { return generation != generation_; });
  }
}

}  // namespace af
