#include "common/interval.hpp"

#include <array>

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

std::string interval_name(int64_t interval_ms) {
  for (const auto& i : kIntervals) {
    if (i.ms == interval_ms) return std::string(i.name);
  }
  return std::to_string(interval_ms) + "ms";
}

}  // namespace af
