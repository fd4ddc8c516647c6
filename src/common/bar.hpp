#pragma once
// Bar: one closed kline of one symbol. ts is the bar's OPEN time (Binance `t`).

#include <array>
#include <cstdint>
#include <string_view>

namespace af {

// Where a bar came from, so that a prediction can be traced.
enum class BarOrigin : uint8_t { kArchive, kRest, kStream, kDerived };

const char* bar_origin_name(BarOrigin o);  // "archive", "rest", "stream", "derived"

// The bar columns every frame starts with, in this order (ts is kept apart as int64).
inline constexpr std::array<std::string_view, 9> kBarColumns{
    "open", "high", "low", "close", "volume", "quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume"};

struct Bar {
  int64_t ts = 0;  // open time, ms since epoch UTC
  double open = 0, high = 0, low = 0, close = 0;
  double volume = 0, quote_volume = 0, trades = 0, taker_buy_volume = 0, taker_buy_quote_volume = 0;
  BarOrigin origin = BarOrigin::kArchive;
  bool complete = true;  // false: a resampled bucket with missing constituents

  // The kBarColumns values in order.
  std::array<double, 9> values() const {
    return {open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume};
  }
  // Same market content (origin and completeness aside), bit for bit.
  bool same_values(const Bar& o) const {
    return ts == o.ts && values() == o.values();
  }
};

}  // namespace af
