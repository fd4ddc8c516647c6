#pragma once
// UpdateInbox: what the WebSocket client's io thread hands to the live feed's
// worker, in arrival order: kline updates and connection events. Two vectors
// that trade places (take() swaps the worker's empty batch for the queue), so a
// steady stream allocates nothing. Thread-safe: push from the io thread, the
// rest from the worker, close from the owner.

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

  void push(const Item& item) {
    std::lock_guard lock(mutex_);
    items_.push_back(item);
    cv_.notify_one();
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
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Item> items_;
  bool closed_ = false;
};

}  // namespace af::binance
