#include "runtime/timer_schedule.hpp"

#include "common/interval.hpp"

namespace af {

TimerSchedule::TimerSchedule(std::vector<int64_t> intervals_ms, int64_t buffer_ms, size_t symbols)
    : intervals_(std::move(intervals_ms)),
      buffer_ms_(buffer_ms),
      started_(symbols, 0),
      next_boundary_(symbols * intervals_.size(), 0) {}

std::optional<TimerTick> TimerSchedule::next_due(size_t symbol, int64_t now) {
  if (intervals_.empty() || symbol >= started_.size()) return std::nullopt;
  int64_t* next = next_boundary_.data() + symbol * intervals_.size();
  if (!started_[symbol]) {
    // The first tick of each timer is the first one firing at or after `now`.
    for (size_t i = 0; i < intervals_.size(); ++i) next[i] = bucket_ceil(now - buffer_ms_, intervals_[i]);
    started_[symbol] = 1;
  }
  size_t best = 0;
  for (size_t i = 1; i < intervals_.size(); ++i)
    if (next[i] < next[best]) best = i;  // strict: ties go to the shorter interval (listed first)
  const int64_t boundary = next[best];
  if (boundary + buffer_ms_ > now) return std::nullopt;
  next[best] = boundary + intervals_[best];
  return TimerTick{best, boundary, boundary + buffer_ms_};
}

void TimerSchedule::save(StateWriter& w) const {
  w.put_vector(started_);
  w.put_vector(next_boundary_);
}

bool TimerSchedule::load(StateReader& r) {
  std::vector<uint8_t> started;
  std::vector<int64_t> next;
  r.get_vector(started);
  r.get_vector(next);
  if (r.failed() || started.size() != started_.size() || next.size() != next_boundary_.size()) return false;
  started_ = std::move(started);
  next_boundary_ = std::move(next);
  return true;
}

void TimerSchedule::save_symbol(size_t symbol, StateWriter& w) const {
  w.put<uint64_t>(intervals_.size());
  if (intervals_.empty()) return;
  w.put<uint8_t>(started_[symbol]);
  for (size_t t = 0; t < intervals_.size(); ++t) w.put<int64_t>(next_boundary_[symbol * intervals_.size() + t]);
}

bool TimerSchedule::load_symbol(size_t symbol, StateReader& r) {
  if (r.get<uint64_t>() != intervals_.size() || r.failed()) return false;
  if (intervals_.empty()) return true;
  started_[symbol] = r.get<uint8_t>();
  for (size_t t = 0; t < intervals_.size(); ++t) next_boundary_[symbol * intervals_.size() + t] = r.get<int64_t>();
  return !r.failed();
}

}  // namespace af
