#pragma once
// UpdateInbox: what the WebSocket client's io thread hands to the live feed's
// worker, in arrival order: kline updates and connection events. Two vectors
// that trade places (take() swaps the worker's empty batch for the queue), so a
// steady stream allocates nothing. Thread-safe: push from the io thread, the
// rest from the worker, close from the owner.
//
// Bounded while the worker is busy elsewhere (the history load of a long warmup,
// a REST call waiting for its timeout): an update of a bar still open replaces the
// queued update of the same symbol's same bar when no connection event came
// between them, as only the newest state of an open bar matters and the exchange
// itself pushes those at a cadence, not each change. Final updates (`x` true) and
// events are never replaced, so the queue holds at most one open update per symbol
// beside them: 200 futures symbols push 800 updates a second, which for a
// five-minute warmup would otherwise be 240,000 queued updates.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "binance/binance_kline_parser.hpp"
#include "binance/binance_ws_client.hpp"

namespace af::binance {

class UpdateInbox {
 public:
  struct Item {
    bool is_event = false;
    KlineUpdate update;  // its `symbol` view is not valid here: use symbol_index
    WsEvent event;
  };

  // True when the item replaced a queued update (see above).
  bool push(const Item& item) {
    std::lock_guard lock(mutex_);
    bool replaced = false;
    if (item.is_event) {
      items_.push_back(item);
      replaceable_from_ = items_.size();
    } else {
      const uint32_t s = item.update.symbol_index;
      if (s >= open_slot_.size()) open_slot_.resize(s + 1, kNoSlot);
      size_t& slot = open_slot_[s];
      if (!item.update.closed && slot != kNoSlot && slot >= replaceable_from_ && slot < items_.size() &&
          same_open_bar(items_[slot].update, item.update)) {
        items_[slot] = item;
        replaced = true;
      } else {
        slot = item.update.closed ? kNoSlot : items_.size();
        items_.push_back(item);
      }
    }
    cv_.notify_one();
    return replaced;
  }
  size_t queued() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  // Ends every wait for good.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    cv_.notify_all();
  }
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  // The open time of the first update's bar (the update stays queued), waiting
  // until `deadline`. nullopt: none by then, or closed.
  std::optional<int64_t> first_update(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    std::optional<int64_t> ts;
    cv_.wait_until(lock, deadline, [&] {
      for (const Item& i : items_) {
        if (!i.is_event) {
          ts = i.update.bar.ts;
          return true;
        }
      }
      return closed_;
    });
    return closed_ ? std::nullopt : ts;
  }
  // Swaps what is queued into `batch` (cleared first), waiting up to wait_ms for
  // something. false once closed.
  bool take(std::vector<Item>& batch, int64_t wait_ms) {
    batch.clear();
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return closed_ || !items_.empty(); });
    if (closed_) return false;
    batch.swap(items_);
    // Slots index the queue just handed over: none of them may be replaced now.
    replaceable_from_ = 0;
    std::fill(open_slot_.begin(), open_slot_.end(), kNoSlot);
    return true;
  }

 private:
  static constexpr size_t kNoSlot = static_cast<size_t>(-1);
  static bool same_open_bar(const KlineUpdate& queued, const KlineUpdate& next) {
    return !queued.closed && queued.bar.ts == next.bar.ts && queued.interval_ms == next.interval_ms;
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Item> items_;
  std::vector<size_t> open_slot_;  // per symbol: where its newest open update is queued, or kNoSlot
  size_t replaceable_from_ = 0;     // items before this index came before the newest event
  bool closed_ = false;
};

}  // namespace af::binance
