#include "common/interval.hpp"

#include <array>
#include <utility>

namespace af {
namespace {

struct NamedInterval {
  std::string_view name;
  int64_t ms;
};

constexpr std::array<NamedInterval, 13> kIntervals{{
    {"1s", 1000},         {"1m", kMinuteMs},      {"3m", 3 * kMinuteMs},  {"5m", 5 * kMinuteMs},
    {"15m", 15 * kMinuteMs}, {"30m", 30 * kMinuteMs}, {"1h", kHourMs},    {"2h", 2 * kHourMs},
    {"4h", 4 * kHourMs},  {"6h", 6 * kHourMs},    {"8h", 8 * kHourMs},    {"12h", 12 * kHourMs},
    {"1d", kDayMs},
}};

constexpr std::array<std::string_view, 13> kNames{"1s", "1m",  "3m", "5m", "15m", "30m", "1h",
                                                  "2h", "4h", "6h", "8h", "12h", "1d"};

}  // namespace

std::span<const std::string_view> binance_interval_names() { return kNames; }

std::optional<int64_t> parse_interval(std::string_view name) {
  for (const auto& i : kIntervals) {
    if (i.name == name) return i.ms;
  }
  return std::nullopt;
}

std::optional<int64_t> parse_frequency(std::string_view text) {
  if (auto binance = parse_interval(text)) return binance;
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  // At most five digits: 86400 (seconds in a day) is the largest count that can
  // divide a day, so the product below can never overflow.
  if (digits == 0 || digits > 5) return std::nullopt;
  int64_t count = 0;
  for (size_t i = 0; i < digits; ++i) count = count * 10 + (text[i] - '0');
  const std::string_view unit = text.substr(digits);
  int64_t unit_ms = 0;
  if (unit == "s" || unit == "S") {
    unit_ms = 1000;
  } else if (unit == "m" || unit == "min" || unit == "T") {
    unit_ms = kMinuteMs;
  } else if (unit == "h" || unit == "H") {
    unit_ms = kHourMs;
  } else if (unit == "d" || unit == "D") {
    unit_ms = kDayMs;
  } else {
    return std::nullopt;
  }
  const int64_t ms = count * unit_ms;
  if (ms <= 0 || ms > kDayMs || kDayMs % ms != 0) return std::nullopt;
  return ms;
}

std::string interval_name(int64_t interval_ms) {
  for (const auto& i : kIntervals) {
    if (i.ms == interval_ms) return std::string(i.name);
  }
  if (interval_ms > 0) {
    for (const auto& [unit, ms] : {std::pair<const char*, int64_t>{"d", kDayMs}, {"h", kHourMs}, {"m", kMinuteMs},
                                   {"s", 1000}})
      if (interval_ms % ms == 0) return std::to_string(interval_ms / ms) + unit;
  }
  return std::to_string(interval_ms) + "ms";
}

}  // namespace af
