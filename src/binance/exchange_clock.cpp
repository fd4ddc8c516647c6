#include "binance/exchange_clock.hpp"

#include <algorithm>

namespace af::binance {

ExchangeClock::ExchangeClock(int64_t interval_ms, ServerTime server_time, std::function<int64_t()> wall)
    : interval_ms_(interval_ms),
      max_jump_ms_(std::max<int64_t>(2 * interval_ms, 10'000)),
      server_time_(std::move(server_time)),
      wall_(std::move(wall)) {}

void ExchangeClock::sync() {
  if (auto t = server_time_()) offset_ = *t - wall_();
}

int64_t ExchangeClock::now() const {
  const int64_t wall = wall_();
  int64_t t = wall + offset_;
  if (newest_event_ > 0) t = std::max(t, newest_event_ + (wall - newest_event_wall_));
  return t;
}

void ExchangeClock::observe(int64_t event_time, int64_t bar_ts) {
  if (event_time <= newest_event_ || event_time < bar_ts || event_time > bar_ts + 2 * interval_ms_) return;
  if (event_time > now() + max_jump_ms_) {
    if (wall_() - last_server_check_ < 1000) return;
    last_server_check_ = wall_();
    auto t = server_time_();
    if (!t) return;
    offset_ = *t - wall_();
    if (event_time > now() + max_jump_ms_) return;
  }
  newest_event_ = event_time;
  newest_event_wall_ = wall_();
}

}  // namespace af::binance
