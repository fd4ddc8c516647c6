#pragma once
// Allocation-free text formatting shared by the text sinks: ISO-8601 UTC time
// (same output as af::format_iso8601, appended to a reused buffer) and RFC 4180
// CSV field quoting.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/time.hpp"

namespace af::sinks {

namespace detail {
inline void append_digits(std::string& out, int64_t v, int width) {
  char buf[24];
  int n = 0;
  const bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u > 0);
  while (n < width) buf[n++] = '0';
  if (neg) out += '-';
  while (n > 0) out += buf[--n];
}
}  // namespace detail

// "YYYY-MM-DD<sep>hh:mm:ss" (UTC) of ms; returns the milliseconds left over (0-999).
inline int64_t append_date_time(std::string& out, int64_t ms, char sep) {
  int64_t days = ms / 86'400'000;
  int64_t rem = ms % 86'400'000;
  if (rem < 0) {
    rem += 86'400'000;
    --days;
  }
  int64_t y = 0;
  unsigned mo = 0, d = 0;
  civil_from_days(days, y, mo, d);
  const int64_t secs = rem / 1000;
  detail::append_digits(out, y, 4);
  out += '-';
  detail::append_digits(out, mo, 2);
  out += '-';
  detail::append_digits(out, d, 2);
  out += sep;
  detail::append_digits(out, secs / 3600, 2);
  out += ':';
  detail::append_digits(out, secs / 60 % 60, 2);
  out += ':';
  detail::append_digits(out, secs % 60, 2);
  return rem % 1000;
}

// "2025-12-26T13:00:00Z", or "...00.250Z" when the milliseconds are not zero.
inline void append_iso8601(std::string& out, int64_t ms) {
  const int64_t millis = append_date_time(out, ms, 'T');
  if (millis != 0) {
    out += '.';
    detail::append_digits(out, millis, 3);
  }
  out += 'Z';
}

// Appends `field`, quoted (with doubled quotes) only when it holds a comma, a
// quote or a line break.
inline void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace af::sinks
