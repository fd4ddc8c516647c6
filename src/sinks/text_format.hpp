#pragma once
// Allocation-free text formatting shared by the text sinks: ISO-8601 UTC time
// (same output as af::format_iso8601, appended to a reused buffer) and RFC 4180
// CSV field quoting, JSON string quoting.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/time.hpp"

namespace af::sinks {

namespace detail {
// Writes v in decimal, zero-padded to at least `width` digits, at p; returns the
// end. p needs room for 21 characters.
inline char* put_digits(char* p, int64_t v, int width) {
  char buf[24];
  int n = 0;
  const bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u > 0);
  while (n < width) buf[n++] = '0';
  if (neg) *p++ = '-';
  while (n > 0) *p++ = buf[--n];
  return p;
}

inline void append_digits(std::string& out, int64_t v, int width) {
  char buf[24];
  out.append(buf, put_digits(buf, v, width));
}

inline char* put2(char* p, unsigned v) {  // v < 100
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

// "YYYY-MM-DD<sep>hh:mm:ss" (UTC) of ms at p; sets `millis` to the milliseconds
// left over (0-999); returns the end. p needs room for 40 characters.
inline char* put_date_time(char* p, int64_t ms, char sep, int64_t& millis) {
  int64_t days = ms / 86'400'000;
  int64_t rem = ms % 86'400'000;
  if (rem < 0) {
    rem += 86'400'000;
    --days;
  }
  int64_t y = 0;
  unsigned mo = 0, d = 0;
  civil_from_days(days, y, mo, d);
  const auto secs = static_cast<unsigned>(rem / 1000);
  if (y >= 0 && y <= 9999) {
    p = put2(p, static_cast<unsigned>(y / 100));
    p = put2(p, static_cast<unsigned>(y % 100));
  } else {
    p = put_digits(p, y, 4);
  }
  *p++ = '-';
  p = put2(p, mo);
  *p++ = '-';
  p = put2(p, d);
  *p++ = sep;
  p = put2(p, secs / 3600);
  *p++ = ':';
  p = put2(p, secs / 60 % 60);
  *p++ = ':';
  p = put2(p, secs % 60);
  millis = rem % 1000;
  return p;
}
}  // namespace detail

// "YYYY-MM-DD<sep>hh:mm:ss" (UTC) of ms; returns the milliseconds left over (0-999).
inline int64_t append_date_time(std::string& out, int64_t ms, char sep) {
  char buf[48];
  int64_t millis = 0;
  char* end = detail::put_date_time(buf, ms, sep, millis);
  out.append(buf, end);
  return millis;
}

// "2025-12-26T13:00:00Z", or "...00.250Z" when the milliseconds are not zero.
// Formatted in a stack buffer and appended once.
inline void append_iso8601(std::string& out, int64_t ms) {
  char buf[48];
  int64_t millis = 0;
  char* p = detail::put_date_time(buf, ms, 'T', millis);
  if (millis != 0) {
    *p++ = '.';
    p = detail::put_digits(p, millis, 3);
  }
  *p++ = 'Z';
  out.append(buf, p);
}

// Formats ISO-8601 times like append_iso8601, remembering the date of the last
// day it converted: records come in time order, so the calendar conversion runs
// once per day, not once per time written.
class Iso8601Writer {
 public:
  // Writes ms at p (room for 40 characters); returns the end.
  char* put(char* p, int64_t ms) {
    int64_t day = ms / 86'400'000;
    int64_t rem = ms % 86'400'000;
    if (rem < 0) {
      rem += 86'400'000;
      --day;
    }
    if (day != day_ || date_len_ == 0) {
      int64_t millis = 0;
      date_len_ = static_cast<int>(detail::put_date_time(date_, day * 86'400'000, 'T', millis) - date_) - 8;
      day_ = day;
    }
    for (int i = 0; i < date_len_; ++i) *p++ = date_[i];  // "YYYY-MM-DDT"
    const auto secs = static_cast<unsigned>(rem / 1000);
    p = detail::put2(p, secs / 3600);
    *p++ = ':';
    p = detail::put2(p, secs / 60 % 60);
    *p++ = ':';
    p = detail::put2(p, secs % 60);
    if (const int64_t millis = rem % 1000; millis != 0) {
      *p++ = '.';
      p = detail::put_digits(p, millis, 3);
    }
    *p++ = 'Z';
    return p;
  }

 private:
  int64_t day_ = 0;
  int date_len_ = 0;  // 0: nothing remembered yet
  char date_[48];
};

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

// A JSON string literal: quote, backslash and control characters escaped, UTF-8
// passed through. The one JSON quoting of the sinks that write JSON.
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr const char* kHex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace af::sinks
