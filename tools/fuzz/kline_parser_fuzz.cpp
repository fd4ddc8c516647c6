// libFuzzer target for BinanceKlineParser: any byte string must give an error code
// or a validated update, never a crash, a leak or an out-of-bounds read (ASan).
// Built and run by tools/fuzz/run_fuzz.sh.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "binance/binance_kline_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static af::binance::BinanceKlineParser parser({"BTCUSDT", "ETHUSDT"});
  af::binance::KlineUpdate u;
  const auto err = parser.parse(std::string_view(reinterpret_cast<const char*>(data), size), 1'800'000'000'000LL, u);
  if (err == af::binance::KlineError::kNone) {
    // What the parser promises about an accepted update.
    const auto& b = u.bar;
    if (!(b.open > 0 && b.low > 0 && b.high >= b.low && b.high >= b.open && b.high >= b.close && b.low <= b.open &&
          b.low <= b.close && std::isfinite(b.high) && b.volume >= 0 && u.interval_ms > 0 &&
          b.ts % u.interval_ms == 0 && (u.symbol == "BTCUSDT" || u.symbol == "ETHUSDT"))) {
      std::abort();
    }
  }
  return 0;
}
