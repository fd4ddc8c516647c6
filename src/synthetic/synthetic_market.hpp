#pragma once
// SyntheticMarket: a seeded generator of plausible klines for offline runs, demos
// and tests (no exchange, no files needed). Per symbol: a geometric Brownian motion
// with GARCH(1,1) volatility clustering and an intraday seasonality, prices on the
// symbol's tick grid, quantities on its lot grid, trades and taker volumes that
// follow volume and the bar's direction. Deterministic for (seed, symbol, UTC day
// of `from`): a symbol's path starts at 00:00 UTC of the day holding `from` and does
// not depend on the other symbols, on `to` or on the interval asked for. A value
// type; any thread (const methods are pure).
//
// Coarse intervals are the exact aggregation of the generated base bars (1m, or
// 1s for the 1s interval), summed in time order: resampling a 1m synthetic mirror
// to 1h reproduces the 1h synthetic mirror of the same seed and start, as
// Binance's own coarse files are the aggregation of its 1m files.

#include <cstdint>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"

namespace af::synthetic {

class SyntheticMarket {
 public:
  SyntheticMarket(std::vector<std::string> symbols, uint64_t seed);

  const std::vector<std::string>& symbols() const { return symbols_; }

  // Bars of symbol `index` at `interval_ms` with ts in [from, to); `from` is moved
  // up to the next interval boundary. Origin kArchive.
  std::vector<Bar> bars(size_t index, int64_t interval_ms, int64_t from_ms, int64_t to_ms) const;

 private:
  std::vector<std::string> symbols_;
  uint64_t seed_;
};

// Writes a futures (USD-M) Vision mirror under `dir`: for each symbol, one monthly
// file per calendar month touched by [from, to) (a partly covered month holds just
// the covered bars), with header row and .CHECKSUM, exactly as
// `replay --data dir` reads it.
Status write_synthetic_mirror(const std::string& dir, const std::vector<std::string>& symbols, int64_t interval_ms,
                              int64_t from_ms, int64_t to_ms, uint64_t seed);

}  // namespace af::synthetic
