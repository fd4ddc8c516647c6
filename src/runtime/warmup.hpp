#pragma once
// The warmup policy (DESIGN §2 "Which bars are warmup"), in one place for the
// replay driver, the live driver and every live feed: for an anchor A, history
// is the bars with ts in [start, A), start = A - lookback moved up to the next
// boundary of the coarsest interval of the pipeline, so that no resampled bucket
// starts half-filled. Every bar with ts >= A is streamed. A feed never computes
// the window itself: the driver passes each symbol's start (begin_history).

#include <cstdint>

namespace af {

// A - lookback_ms, moved up to the next multiple of align_ms (align_ms <= 0: not moved).
int64_t warmup_start(int64_t anchor, int64_t lookback_ms, int64_t align_ms);

// The same in the plan's units (lookback_days, coarsest_interval_ms).
int64_t history_start_for(int64_t anchor, int64_t lookback_days, int64_t coarsest_interval_ms);

}  // namespace af
