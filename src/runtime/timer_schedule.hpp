#pragma once
// TimerSchedule: when the pipeline's `timer.<interval>` events fire (DESIGN §2,
// the seed's timer sources). A timer ticks at every epoch-aligned boundary of its
// interval plus buffer_minutes, for each symbol on that symbol's clock, as a flow
// runs for its triggering symbol only: a tick fires before the symbol's first bar
// that closes after it (so it sees every bar of the symbol closed by then, in
// replay and live alike, whatever the other symbols do), or when the exchange's
// clock passes it with no such bar (live; replay at its end). Ticks of a symbol
// come out in time order, ties shortest interval first; a symbol's first tick is
// the first one at or after its first clock reading (no tick before its first bar).
// Owned by the Engine; compute thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/state_archive.hpp"

namespace af {

struct TimerTick {
  size_t timer = 0;      // index into the intervals given (Plan::timers)
  int64_t boundary = 0;  // the interval boundary, ms
  int64_t at = 0;        // boundary + buffer: when it fires
};

class TimerSchedule {
 public:
  TimerSchedule() = default;
  // `intervals_ms`: each positive and dividing a day (Binance's intervals);
  // `buffer_ms`: 0 to one day.
  TimerSchedule(std::vector<int64_t> intervals_ms, int64_t buffer_ms, size_t symbols);

  bool empty() const { return intervals_.empty(); }
  size_t symbols() const { return started_.size(); }
  // The symbol's earliest tick with at <= now that has not fired, marked fired;
  // nullopt when none is due.
  std::optional<TimerTick> next_due(size_t symbol, int64_t now);

  void save(StateWriter& w) const;
  bool load(StateReader& r);
  // One symbol's part (snapshots keyed by symbol).
  void save_symbol(size_t symbol, StateWriter& w) const;
  bool load_symbol(size_t symbol, StateReader& r);

 private:
  std::vector<int64_t> intervals_;
  int64_t buffer_ms_ = 0;
  std::vector<uint8_t> started_;        // per symbol: its clock has been read
  std::vector<int64_t> next_boundary_;  // [symbol * timers + timer]
};

}  // namespace af
