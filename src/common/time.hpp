#pragma once
// Time inside the engine is int64 milliseconds since the Unix epoch, UTC.
// Text output is ISO-8601 UTC ("2025-12-26T13:00:00Z").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace af {

// "2025-12-26T13:00:00Z"; milliseconds are written only when non-zero
// ("2025-12-26T13:00:00.250Z").
std::string format_iso8601(int64_t ms);

// Accepts "2023-09-01", "2023-09-01T12:00", "2023-09-01T12:00:00",
// "2023-09-01 12:00:00", an optional fraction, and an optional "Z" or "+00:00".
// Anything else (other offsets, out-of-range fields) is nullopt.
std::optional<int64_t> parse_iso8601(std::string_view text);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);

// Wall-clock time now, in ms.
int64_t now_ms();

// Wall-clock time from the kernel's coarse clock: the same epoch as now_ms(), but
// it only advances every few ms (one scheduler tick) and costs a fraction of a
// precise read. For per-record timestamps that are metadata (emitted_at).
int64_t coarse_now_ms();

}  // namespace af
