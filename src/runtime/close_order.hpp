#pragma once
// The order in which bars of several series run through the engine, in replay
// and live alike: by close time (open time + interval), then by data step, then
// by symbol: the order a live service sees them close in (DESIGN §2). The replay
// driver merges its series by CloseKey; the live driver merges the warmup history
// of several feeds with CloseTimeMerger, so both run history in the same order.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "runtime/symbol_table.hpp"

namespace af {

struct CloseKey {
  int64_t close = 0;   // the bar's open time + its interval
  size_t source = 0;   // the data step (index in Plan::sources)
  SymbolId symbol = 0;  // the engine's symbol id
  friend bool operator<(const CloseKey& a, const CloseKey& b) {
    return std::tie(a.close, a.source, a.symbol) < std::tie(b.close, b.source, b.symbol);
  }
};

// Collects bars of several series and hands them out in close order (items of
// equal keys in the order they were added). Owned by one thread.
template <class T>
class CloseTimeMerger {
 public:
  void add(CloseKey key, T item) { items_.emplace_back(key, std::move(item)); }
  bool empty() const { return items_.empty(); }
  // Calls f(item) for every item in close order, then lets the memory go.
  template <class F>
  void drain(F&& f) {
    std::stable_sort(items_.begin(), items_.end(),
                     [](const std::pair<CloseKey, T>& x, const std::pair<CloseKey, T>& y) { return x.first < y.first; });
    for (auto& [key, item] : items_) f(item);
    std::vector<std::pair<CloseKey, T>>().swap(items_);
  }

 private:
  std::vector<std::pair<CloseKey, T>> items_;
};

}  // namespace af
