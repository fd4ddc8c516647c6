#pragma once
// Numbers in text output are written in the shortest form that reads back to the
// same double (std::to_chars without precision), so CSV files round-trip exactly.

#include <charconv>
#include <cmath>
#include <string>

namespace af {

// Appends the shortest round-trip form of v; NaN is written as "nan", infinities
// as "inf"/"-inf".
inline void append_double(std::string& out, double v) {
  char buf[32];
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Writes what append_double appends at p (room for 32 characters); returns the end.
inline char* put_double(char* p, double v) {
  if (std::isnan(v)) {
    p[0] = 'n';
    p[1] = 'a';
    p[2] = 'n';
    return p + 3;
  }
  return std::to_chars(p, p + 32, v).ptr;
}

inline std::string format_double(double v) {
  std::string s;
  append_double(s, v);
  return s;
}

}  // namespace af
