#pragma once
// Random bars whose values are arbitrary doubles (not decimal-clean), for
// round-trip and merge tests.

#include <cstdint>
#include <random>
#include <vector>

#include "common/bar.hpp"

namespace af::test {

inline std::vector<Bar> random_bars(int64_t from, int64_t interval, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Bar> out;
  double price = 100 * (1 + u(rng));
  for (size_t i = 0; i < n; ++i) {
    Bar b;
    b.ts = from + static_cast<int64_t>(i) * interval;
    b.open = price;
    b.close = price * (1 + (u(rng) - 0.5) / 50);
    b.high = std::max(b.open, b.close) * (1 + u(rng) / 100);
    b.low = std::min(b.open, b.close) * (1 - u(rng) / 100);
    b.volume = u(rng) * 1e4;
    b.quote_volume = b.volume * (b.high + b.low) / 2;
    b.trades = static_cast<double>(static_cast<int64_t>(u(rng) * 5000));
    b.taker_buy_volume = b.volume * u(rng);
    b.taker_buy_quote_volume = b.taker_buy_volume * b.close;
    price = b.close;
    out.push_back(b);
  }
  return out;
}

}  // namespace af::test
