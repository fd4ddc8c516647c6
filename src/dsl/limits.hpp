#pragma once
// The bounds a pipeline file is held to, each checked before the arithmetic or
// allocation it guards, so that hostile or mistyped input is a located error,
// never an overflow, a huge allocation or a crash. Documented in docs/dsl.md.

#include <cstddef>
#include <cstdint>

namespace af::dsl {

// A pipeline is a few kilobytes; anything this large is not one (`/dev/zero`).
inline constexpr std::uintmax_t kMaxPipelineFileBytes = 1024 * 1024;

// Steps one `expand` may make of a single step (the product of its lists).
inline constexpr std::uint64_t kMaxExpandedSteps = 1000;

// signal_generation.warmup.lookback_days: ten years, more than any Binance
// history; days x 86 400 000 ms stays far inside int64.
inline constexpr std::int64_t kMaxLookbackDays = 3650;

// signal_generation.scheduling.buffer_minutes: one day of grace after a close.
inline constexpr std::int64_t kMaxBufferMinutes = 1440;

// Rows of history one step may need before its first value (the compiler's
// warmup sums and resample ratios then stay far inside int64).
inline constexpr std::int64_t kMaxStepWarmupRows = 1'000'000;

// A `mapping` param (sinks.python's `params`): nesting and nodes, so that a
// hostile file cannot make the JSON conversion recurse or allocate without end.
inline constexpr int kMaxMappingDepth = 16;
inline constexpr std::size_t kMaxMappingNodes = 10'000;

}  // namespace af::dsl
