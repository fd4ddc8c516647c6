#pragma once
// ExchangeClock: Binance's time as the live feed estimates it, which the bar
// assembler's deadlines (close + buffer) run on. The REST server time's offset
// from the local clock, moved forward by the event times (E) of the stream, so
// that deadlines follow the exchange even when its clock runs faster than ours
// (the simulated exchange at speed) or the local clock drifts. An E is only
// believed when it is consistent with its own bar (between its open and two
// intervals later): a stray timestamp cannot move the clock. An E further ahead
// of the clock than a jump bound is only believed once the server time confirms
// it (asked at most once a second): one future-dated frame cannot move the clock,
// a clock that fell behind (a pause, a fast simulated exchange) is set right.
// Owned by the live feed's worker thread; not thread-safe.

#include <cstdint>
#include <functional>
#include <optional>

namespace af::binance {

class ExchangeClock {
 public:
  // The exchange's server time (REST), nullopt when it cannot be had.
  using ServerTime = std::function<std::optional<int64_t>()>;
  // `wall`: the local clock, ms since the epoch.
  ExchangeClock(int64_t interval_ms, ServerTime server_time, std::function<int64_t()> wall);

  // Takes the offset from the server time (kept at 0 when it does not answer).
  void sync();
  int64_t now() const;
  // The event time of an update of the bar opening at bar_ts.
  void observe(int64_t event_time, int64_t bar_ts);

 private:
  int64_t interval_ms_;
  int64_t max_jump_ms_;
  ServerTime server_time_;
  std::function<int64_t()> wall_;
  int64_t offset_ = 0;
  int64_t newest_event_ = 0;
  int64_t newest_event_wall_ = 0;
  int64_t last_server_check_ = 0;
};

}  // namespace af::binance
