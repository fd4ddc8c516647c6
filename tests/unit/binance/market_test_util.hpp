#pragma once
// Helpers shared by the market tests: a temporary directory, the samples folder,
// synthetic bars and their JSON forms. Test-only.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/number_format.hpp"
#include "support/temp_dir.hpp"

namespace af::test {

inline std::string shared_samples_dir() {
  const char* shared = std::getenv("AF_SHARED_DIR");
  if (!shared) return {};
  std::string dir = std::string(shared) + "/data/samples";
  return std::filesystem::exists(dir + "/README.md") ? dir : std::string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Bars on 2-decimal price / 3-decimal size grids, so that their decimal text reads
// back to the same double.
inline std::vector<Bar> synthetic_bars(int64_t first_ts, int64_t interval_ms, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> step(-50, 50), vol(1, 100000);
  std::vector<Bar> out;
  int64_t price = 3000000;  // cents
  for (int i = 0; i < count; ++i) {
    Bar b;
    b.ts = first_ts + i * interval_ms;
    const int64_t o = price, c = price + step(rng);
    const int64_t h = std::max(o, c) + std::abs(step(rng)), l = std::min(o, c) - std::abs(step(rng));
    b.open = o / 100.0, b.close = c / 100.0, b.high = h / 100.0, b.low = l / 100.0;
    b.volume = vol(rng) / 1000.0;
    b.taker_buy_volume = std::floor(b.volume * 400) / 1000.0;
    b.quote_volume = std::round(b.volume * b.close * 100) / 100.0;
    b.taker_buy_quote_volume = std::round(b.taker_buy_volume * b.close * 100) / 100.0;
    b.trades = 1 + i % 97;
    price = c;
    out.push_back(b);
  }
  return out;
}

inline std::string num(double v) { return format_double(v); }

// One REST kline row: [t,"o","h","l","c","v",T,"q",n,"V","Q","0"].
inline std::string rest_row(const Bar& b, int64_t interval_ms) {
  return "[" + std::to_string(b.ts) + ",\"" + num(b.open) + "\",\"" + num(b.high) + "\",\"" + num(b.low) + "\",\"" +
         num(b.close) + "\",\"" + num(b.volume) + "\"," + std::to_string(b.ts + interval_ms - 1) + ",\"" +
         num(b.quote_volume) + "\"," + std::to_string(static_cast<int64_t>(b.trades)) + ",\"" +
         num(b.taker_buy_volume) + "\",\"" + num(b.taker_buy_quote_volume) + "\",\"0\"]";
}

// One combined-stream kline frame.
inline std::string kline_frame(const std::string& symbol, const std::string& interval, int64_t interval_ms,
                               const Bar& b, bool closed, int64_t event_time) {
  std::string lower;
  for (char c : symbol) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "{\"stream\":\"" + lower + "@kline_" + interval + "\",\"data\":{\"e\":\"kline\",\"E\":" +
         std::to_string(event_time) + ",\"s\":\"" + symbol + "\",\"k\":{\"t\":" + std::to_string(b.ts) +
         ",\"T\":" + std::to_string(b.ts + interval_ms - 1) + ",\"s\":\"" + symbol + "\",\"i\":\"" + interval +
         "\",\"f\":1,\"L\":2,\"o\":\"" + num(b.open) + "\",\"c\":\"" + num(b.close) + "\",\"h\":\"" + num(b.high) +
         "\",\"l\":\"" + num(b.low) + "\",\"v\":\"" + num(b.volume) + "\",\"n\":" +
         std::to_string(static_cast<int64_t>(b.trades)) + ",\"x\":" + (closed ? "true" : "false") + ",\"q\":\"" +
         num(b.quote_volume) + "\",\"V\":\"" + num(b.taker_buy_volume) + "\",\"Q\":\"" +
         num(b.taker_buy_quote_volume) + "\",\"B\":\"0\"}}}";
}

}  // namespace af::test
