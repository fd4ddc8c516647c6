#pragma once
// EventKey: an event's place in the order a single-threaded replay feeds events
// (runtime/threaded_replay.hpp puts several threads' records back in that order;
// the engine carries the key of a deferred row's event to its record).

#include <cstdint>
#include <limits>
#include <tuple>

namespace af {

// An event's place in the single-thread order: a bar by (close, data step,
// symbol) as the replay driver feeds it, the symbol being its index in the whole
// universe (not a thread's engine id); the final clock after every bar, by symbol,
// as Engine::on_clock walks them.
struct EventKey {
  static constexpr int64_t kFinalClock = std::numeric_limits<int64_t>::max();

  int64_t close = std::numeric_limits<int64_t>::min();
  uint32_t source = 0;
  uint32_t symbol = 0;

  static EventKey lowest() { return {}; }
  static EventKey final_clock(uint32_t symbol) { return {kFinalClock, 0, symbol}; }
  friend bool operator<(const EventKey& a, const EventKey& b) {
    return std::tie(a.close, a.source, a.symbol) < std::tie(b.close, b.source, b.symbol);
  }
  friend bool operator==(const EventKey& a, const EventKey& b) {
    return a.close == b.close && a.source == b.source && a.symbol == b.symbol;
  }
};

}  // namespace af
