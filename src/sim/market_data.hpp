#pragma once
// MarketData: the bars the simulated exchange serves, for one market (USD-M
// futures or spot), from a Binance Vision mirror (files read once per month and
// cached) or from the seeded SyntheticMarket (generated per calendar month, so a
// month's path is continuous and REST, WebSocket and archive files agree). Also
// knows how Binance writes each symbol's numbers (decimals) and builds the bulk
// archive files. Owned by SimExchange; used only on its io thread (not thread-safe).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "synthetic/synthetic_market.hpp"
#include "vision/vision_layout.hpp"

namespace af::sim {

// How Binance writes one symbol's numbers: fixed decimals for prices, base
// quantities and quote quantities (futures: tick and lot decimals; spot: 8 each).
struct NumberFormat {
  int price = 2;
  int qty = 3;
  int quote = 5;
};

class MarketData {
 public:
  // Mirror mode: `mirror_root` holds data/<market>/... (or <market>/... directly).
  MarketData(vision::VisionMarket market, std::string mirror_root);
  // Generator mode: the seeded generator for `symbols`; history starts at `earliest_ms`.
  MarketData(vision::VisionMarket market, std::vector<std::string> symbols, uint64_t seed, int64_t earliest_ms);

  vision::VisionMarket market() const { return market_; }
  bool has_symbol(const std::string& symbol) const;
  const std::vector<std::string>& symbols() const { return symbols_; }
  bool generated() const { return generator_ != nullptr; }

  // Complete bars of `symbol` at `interval_ms` with open time in [from, to), sorted.
  // Unknown symbol or an interval without data: empty.
  std::vector<Bar> bars(const std::string& symbol, int64_t interval_ms, int64_t from, int64_t to);
  // The bar opening at `ts` (aligned), if the data has it.
  std::optional<Bar> bar_at(const std::string& symbol, int64_t interval_ms, int64_t ts);
  // Open time of the first bar held (generator: the configured history start).
  std::optional<int64_t> earliest(const std::string& symbol, int64_t interval_ms);

  NumberFormat number_format(const std::string& symbol, int64_t interval_ms);

  // Bytes of the archive file for one period (the mirror's file as-is when it
  // exists, else written with vision_writer from the bars into `scratch_dir`);
  // `checksum` selects the .CHECKSUM sibling. Error: no such file / no data.
  Result<std::string> archive_file(const std::string& symbol, const std::string& interval, int64_t interval_ms,
                                   const vision::VisionPeriod& period, bool checksum, const std::string& scratch_dir);

 private:
  using ChunkKey = std::tuple<std::string, int64_t, int64_t>;  // symbol, interval, chunk start
  const std::vector<Bar>& chunk(const std::string& symbol, int64_t interval_ms, int64_t chunk_start);
  static int64_t chunk_start_of(int64_t ts, int64_t interval_ms);
  static int64_t chunk_end_of(int64_t chunk_start, int64_t interval_ms);
  std::string mirror_data_root() const;

  vision::VisionMarket market_;
  std::string mirror_root_;
  std::unique_ptr<synthetic::SyntheticMarket> generator_;
  std::vector<std::string> symbols_;
  int64_t generator_earliest_ = 0;
  std::map<ChunkKey, std::vector<Bar>> chunks_;
  std::map<std::pair<std::string, int64_t>, std::optional<int64_t>> earliest_;
  std::map<std::string, NumberFormat> formats_;
};

// Number of decimals needed to write v exactly (0..8), assuming v is on a decimal grid.
int decimals_of(double v);

}  // namespace af::sim
