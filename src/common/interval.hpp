#pragma once
// Binance kline intervals as int64 milliseconds. Buckets align to the UTC epoch.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace af {

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 60 * kMinuteMs;
inline constexpr int64_t kDayMs = 24 * kHourMs;

// The interval names Binance accepts for klines that this engine supports
// (1m ... 1d, plus 1s which only spot serves). Longer ones (3d, 1w, 1M) do not
// align to the epoch and are rejected.
std::span<const std::string_view> binance_interval_names();

// "15m" -> 900000; nullopt for anything outside Binance's set.
std::optional<int64_t> parse_interval(std::string_view name);

// A resample target: a Binance interval, or `<n><unit>` in Binance's or pandas'
// spelling (s/S; m/min/T; h/H; d/D: "2H", "120min", "120T", "1D", "45m") whose
// length divides a day, so buckets stay aligned to the UTC epoch. nullopt
// otherwise (pandas' "M" is a month, not a minute, and is refused).
std::optional<int64_t> parse_frequency(std::string_view text);

// 900000 -> "15m"; another length in its largest whole unit ("3h", "45m", "90s"),
// else "<ms>ms".
std::string interval_name(int64_t interval_ms);

// Open time of the epoch-aligned bucket that contains ts.
inline int64_t bucket_start(int64_t ts, int64_t interval_ms) {
  int64_t r = ts % interval_ms;
  if (r < 0) r += interval_ms;
  return ts - r;
}

// The first bucket boundary at or after ts: ts itself when it is one.
inline int64_t bucket_ceil(int64_t ts, int64_t interval_ms) {
  const int64_t floor = bucket_start(ts, interval_ms);
  return floor == ts ? ts : floor + interval_ms;
}

}  // namespace af
