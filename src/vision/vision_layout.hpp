#pragma once
// Vision layout: where data.binance.vision (and a local mirror of it) keeps kline
// files: ROOT/data/{futures/um|spot}/{monthly|daily}/klines/SYM/INT/SYM-INT-DATE.zip,
// DATE = YYYY-MM (monthly) or YYYY-MM-DD (daily). Pure functions, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace af::vision {

enum class VisionMarket { kFuturesUm, kSpot };

const char* vision_market_path(VisionMarket m);  // "futures/um", "spot"

// One file's period: a month (day == 0) or a day.
struct VisionPeriod {
  int64_t year = 1970;
  unsigned month = 1;
  unsigned day = 0;  // 0: the whole month

  bool monthly() const { return day == 0; }
  int64_t start_ms() const;  // first ms of the period
  int64_t end_ms() const;    // first ms after it
  std::string text() const;  // "2024-01" or "2024-01-05"
  static VisionPeriod month_of(int64_t ts_ms);
  static VisionPeriod day_of(int64_t ts_ms);
};

// ROOT/data/<market>/<monthly|daily>/klines/SYM/INT
std::string vision_dir(const std::string& root, VisionMarket m, bool monthly, const std::string& symbol,
                       const std::string& interval);

// "SYM-INT-DATE.zip"
std::string vision_file_name(const std::string& symbol, const std::string& interval, const VisionPeriod& p);

// Parses "SYM-INT-DATE.zip" for the given symbol and interval; nullopt otherwise.
std::optional<VisionPeriod> parse_vision_file_name(std::string_view name, const std::string& symbol,
                                                   const std::string& interval);

}  // namespace af::vision
