#pragma once
// Resample: `transforms.resample(target_freq)`, OHLCV aggregation of a frame's bars
// into epoch-aligned buckets of a coarser interval (15m -> 2h). One instance per
// step, shared by every symbol (per-symbol state indexed by SymbolId). Owned by the
// Engine; compute thread only.
//
// When a bucket is emitted (the live-compatible rule, no clock involved):
// - when its LAST constituent arrives (bar.ts == start + target - input): emitted at
//   once; complete = every constituent was seen (and each was complete);
// - otherwise, when a bar of a LATER bucket arrives: the open bucket is emitted first,
//   complete = false, and logged (rate-limited) before the new bar is accumulated.
// A bucket that received no bar is never emitted. Output ts = bucket start, origin
// kDerived. Aggregation: open first, high max, low min, close last, volume,
// quote_volume, trades and taker volumes summed in ts order.

#include <cstdint>
#include <vector>

#include "common/log.hpp"
#include "runtime/transform.hpp"

namespace af::transforms {

class Resample final : public Transform {
 public:
  Resample(int64_t input_interval_ms, int64_t target_interval_ms, size_t symbol_count);

  void on_bar(SymbolId symbol, const Bar& bar, TransformOutput& out) override;
  void reset(SymbolId symbol) override;
  void save(StateWriter& w) const override;
  bool load(StateReader& r) override;
  bool per_symbol_state() const override { return true; }
  void save_symbol(SymbolId symbol, StateWriter& w) const override;
  bool load_symbol(SymbolId symbol, StateReader& r) override;

 private:
  struct State {
    bool open = false;     // a bucket is accumulating
    int64_t count = 0;     // constituents seen in it
    int64_t last_ts = 0;   // ts of the last input bar (INT64_MIN: none)
    Bar acc;               // the bucket so far; acc.ts = bucket start
  };

  void emit(SymbolId symbol, State& st, TransformOutput& out, bool complete);
  State& state(SymbolId symbol);
  static State read_state(StateReader& r);

  int64_t input_ms_;
  int64_t target_ms_;
  int64_t ratio_;
  std::vector<State> states_;
  RateLimiter limiter_{10, 60'000};
};

}  // namespace af::transforms
