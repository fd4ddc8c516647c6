#include "runtime/warmup.hpp"

#include "common/interval.hpp"

namespace af {

int64_t warmup_start(int64_t anchor, int64_t lookback_ms, int64_t align_ms) {
  const int64_t start = anchor - lookback_ms;
  return align_ms > 0 ? bucket_ceil(start, align_ms) : start;
}

int64_t history_start_for(int64_t anchor, int64_t lookback_days, int64_t coarsest_interval_ms) {
  return warmup_start(anchor, lookback_days * kDayMs, coarsest_interval_ms);
}

}  // namespace af
