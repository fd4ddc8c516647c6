#pragma once
// Numbers in text output are written in the shortest form that reads back to the
// same double (std::to_chars without precision), so CSV files round-trip exactly.

#include <charconv>
#include <cmath>
#include <string>

namespace af {

// Writes the shortest round-trip form of v at p (room for 32 characters); returns
// the end. NaN is written as "nan", infinities as "inf"/"-inf".
inline char* put_double(char* p, double v) {
  if (std::isnan(v)) {
    p[0] = 'n';
    p[1] = 'a';
    p[2] = 'n';
    return p + 3;
  }
  return std::to_chars(p, p + 32, v).ptr;
}

// Appends what put_double writes.
inline void append_double(std::string& out, double v) {
  char buf[32];
  out.append(buf, put_double(buf, v));
}

inline std::string format_double(double v) {
  std::string s;
  append_double(s, v);
  return s;
}

}  // namespace af
