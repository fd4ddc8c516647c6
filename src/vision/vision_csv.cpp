#include "vision/vision_csv.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace af::vision {
namespace {

constexpr size_t kFieldCount = 12;

std::string at(std::string_view place, size_t line) {
  std::string s(place);
  s += ':';
  s += std::to_string(line);
  s += ": ";
  return s;
}

Error not_a_number(std::string_view place, size_t line, size_t field, std::string_view value) {
  return make_error(at(place, line) + "field '" + std::string(kVisionFieldNames[field]) + "' is not a number: '" +
                    std::string(value) + "'");
}

bool parse_double(std::string_view s, double& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(v);
}

bool parse_int(std::string_view s, int64_t& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Microsecond timestamps have 16 digits (ms ones have 13 until the year 2286).
constexpr size_t kMicrosecondDigits = 16;

}  // namespace

Status parse_vision_csv(std::string_view text, std::string_view place, std::vector<Bar>& out) {
  size_t pos = 0;
  size_t line_no = 0;
  std::string_view fields[kFieldCount];
  while (pos < text.size()) {
    const char* base = text.data() + pos;
    const void* nl = std::memchr(base, '\n', text.size() - pos);
    size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - base) : text.size() - pos;
    std::string_view line(base, len);
    pos += len + (nl ? 1 : 0);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line_no == 1 && ((line[0] >= 'a' && line[0] <= 'z') || (line[0] >= 'A' && line[0] <= 'Z'))) {
      continue;  // the futures header row
    }

    size_t n = 0;
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      std::string_view f = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (n < kFieldCount) fields[n] = f;
      ++n;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (n != kFieldCount) {
      return make_error(at(place, line_no) + "expected 12 fields, got " + std::to_string(n));
    }

    Bar b;
    int64_t ts = 0;
    if (!parse_int(fields[0], ts)) return not_a_number(place, line_no, 0, fields[0]);
    if (fields[0].size() >= kMicrosecondDigits) ts /= 1000;
    b.ts = ts;
    double* targets[] = {&b.open,  &b.high,         &b.low,    &b.close,          &b.volume,
                         nullptr,  &b.quote_volume, &b.trades, &b.taker_buy_volume, &b.taker_buy_quote_volume};
    for (size_t i = 1; i <= 10; ++i) {
      if (targets[i - 1] == nullptr) {
        int64_t close_time = 0;
        if (!parse_int(fields[i], close_time)) return not_a_number(place, line_no, i, fields[i]);
        continue;
      }
      if (!parse_double(fields[i], *targets[i - 1])) return not_a_number(place, line_no, i, fields[i]);
    }
    b.origin = BarOrigin::kArchive;
    out.push_back(b);
  }
  return {};
}

Result<std::vector<Bar>> parse_vision_csv(std::string_view text, std::string_view place) {
  std::vector<Bar> bars;
  bars.reserve(text.size() / 100 + 1);
  if (auto st = parse_vision_csv(text, place, bars); !st) return st.error();
  return bars;
}

}  // namespace af::vision
