#pragma once
// StatusBoard: what the status page shows per symbol (the newest bar, the newest
// prediction and its value, bars fetched over REST, and the recent predictions for
// its chart), kept as the compute thread processes bars and emits predictions.
//
// Owned by the live driver. on_bar() and on_prediction() are called on the compute
// thread; symbols() may run at the same time on the metrics server's io thread. One
// mutex guards the board: the writer holds it for an index (bars: the engine's dense
// symbol id; predictions: the record's interned name pointer) and a few stores, the
// reader for a copy of a few kilobytes per symbol. A symbol's slot and its ring of
// recent predictions are allocated at its first bar, so the steady state allocates
// nothing (about 30 ns per bar with its prediction on this machine).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bar.hpp"

namespace af::service {

class StatusBoard {
 public:
  struct Point {
    int64_t ts = 0;  // the bar's open time, ms
    double value = 0;
  };
  struct Symbol {
    std::string name;
    int64_t last_bar_ts = 0;            // open time of the newest bar processed (0: none yet)
    int64_t last_bar_at_ms = 0;         // wall clock when it was processed
    int64_t interval_ms = 0;            // of the finest source that delivered it
    uint64_t bars = 0;                  // processed, warmup included
    uint64_t live_bars_from_rest = 0;   // live bars fetched over REST (gaps repaired, late or missing closes)
    bool has_prediction = false;
    Point last_prediction;
    int64_t last_prediction_at_ms = 0;  // wall clock it was handed to the sinks
    std::vector<Point> recent;          // oldest first, at most `history` points
  };

  // `history`: predictions kept per symbol for the chart.
  explicit StatusBoard(size_t history = 120);

  // A bar of symbol `id` (a dense id, such as the engine's SymbolId) named `name`
  // (open time `ts`, from a source of `interval_ms`) went through the engine at wall
  // clock `now_ms`; `live`: not warmup history.
  void on_bar(size_t id, const std::string& name, int64_t ts, int64_t interval_ms, BarOrigin origin, bool live,
              int64_t now_ms);
  // A prediction for `symbol` was handed to the sinks. The name is matched to a symbol
  // seen in on_bar() once per distinct pointer (records hand out interned names); a
  // symbol with no bar yet is ignored.
  void on_prediction(const std::string* symbol, int64_t ts, double value, int64_t now_ms);

  // A copy of every symbol's state, by name.
  std::vector<Symbol> symbols() const;

 private:
  struct Entry {
    bool used = false;
    Symbol symbol;
    std::vector<Point> ring;  // capacity history_, written at `next`
    size_t next = 0;
    size_t size = 0;
  };

  size_t history_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;                                // by id
  std::unordered_map<const std::string*, size_t> by_name_;  // prediction name pointer -> id
};

}  // namespace af::service
