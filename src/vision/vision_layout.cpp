#include "vision/vision_layout.hpp"

#include <charconv>
#include <cstdio>

#include "common/interval.hpp"
#include "common/time.hpp"

namespace af::vision {

const char* vision_market_path(VisionMarket m) {
  switch (m) {
    case VisionMarket::kFuturesUm: return "futures/um";
    case VisionMarket::kSpot: return "spot";
  }
  return "?";
}

int64_t VisionPeriod::start_ms() const { return days_from_civil(year, month, day == 0 ? 1 : day) * kDayMs; }

int64_t VisionPeriod::end_ms() const {
  if (day != 0) return start_ms() + kDayMs;
  return month == 12 ? days_from_civil(year + 1, 1, 1) * kDayMs : days_from_civil(year, month + 1, 1) * kDayMs;
}

std::string VisionPeriod::text() const {
  char buf[32];
  if (day == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u", static_cast<long long>(year), month);
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(year), month, day);
  }
  return buf;
}

VisionPeriod VisionPeriod::month_of(int64_t ts_ms) {
  VisionPeriod p = day_of(ts_ms);
  p.day = 0;
  return p;
}

VisionPeriod VisionPeriod::day_of(int64_t ts_ms) {
  VisionPeriod p;
  civil_from_days(bucket_start(ts_ms, kDayMs) / kDayMs, p.year, p.month, p.day);
  return p;
}

std::string vision_dir(const std::string& root, VisionMarket m, bool monthly, const std::string& symbol,
                       const std::string& interval) {
  return root + "/data/" + vision_market_path(m) + (monthly ? "/monthly" : "/daily") + "/klines/" + symbol + "/" +
         interval;
}

std::string vision_file_name(const std::string& symbol, const std::string& interval, const VisionPeriod& p) {
  return symbol + "-" + interval + "-" + p.text() + ".zip";
}

std::optional<VisionPeriod> parse_vision_file_name(std::string_view name, const std::string& symbol,
                                                   const std::string& interval) {
  const std::string prefix = symbol + "-" + interval + "-";
  if (name.size() <= prefix.size() + 4 || name.substr(0, prefix.size()) != prefix) return std::nullopt;
  if (name.substr(name.size() - 4) != ".zip") return std::nullopt;
  std::string_view date = name.substr(prefix.size(), name.size() - prefix.size() - 4);
  auto num = [](std::string_view s, unsigned& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
  };
  VisionPeriod p;
  unsigned y = 0;
  if (date.size() != 7 && date.size() != 10) return std::nullopt;
  if (date[4] != '-' || !num(date.substr(0, 4), y) || !num(date.substr(5, 2), p.month)) return std::nullopt;
  if (date.size() == 10 && (date[7] != '-' || !num(date.substr(8, 2), p.day))) return std::nullopt;
  if (p.month < 1 || p.month > 12 || (date.size() == 10 && (p.day < 1 || p.day > 31))) return std::nullopt;
  p.year = y;
  return p;
}

}  // namespace af::vision
