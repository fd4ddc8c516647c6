#pragma once
// Align: `transforms.align`, puts every symbol of a frame on one time grid (the
// frame's interval), so that cross-sectional steps see a row per symbol per ts.
// One instance per step, shared by every symbol. Owned by the Engine; compute thread.
//
// When rows appear (the live-compatible rule: the grid advances when the next ts
// begins, never on a clock):
// - a real bar at ts t for symbol s is passed through at once, extra `filled` = 0;
// - just before it, every symbol x that has had a bar and whose last emitted ts is
//   < t - interval (s included) gets filled rows for each ts up to t - interval:
//   open = high = low = close = x's last close, zero volumes and trades, origin
//   kDerived, `filled` = 1;
// - a symbol with no bar yet gets no filled rows (nothing to carry).
// So the row at ts T for a symbol without a bar at T appears when some symbol's bar
// at T + interval (or later) arrives. A real bar whose slot was already filled
// (it arrived after a later ts of another symbol) is dropped and logged. A ts that
// no symbol traded (a venue-wide outage) is filled for every symbol once a later
// bar arrives: the grid is regular from each symbol's first bar on.
// Cost: one scan over the symbols each time the grid advances, O(1) per bar when
// every symbol trades at every ts.

#include <cstdint>
#include <vector>

#include "common/log.hpp"
#include "runtime/transform.hpp"

namespace af::transforms {

class Align final : public Transform {
 public:
  Align(int64_t interval_ms, size_t symbol_count);

  void on_bar(SymbolId symbol, const Bar& bar, TransformOutput& out) override;
  void reset(SymbolId symbol) override;
  void save(StateWriter& w) const override;
  bool load(StateReader& r) override;

 private:
  struct State {
    bool seen = false;
    int64_t last_ts = 0;    // last emitted row (real or filled)
    double last_close = 0;  // carried into filled rows
  };
  void fill(SymbolId symbol, State& st, int64_t through, TransformOutput& out);

  int64_t interval_ms_;
  std::vector<State> states_;
  // Every seen symbol has rows through at least this ts (a lower bound that
  // spares the scan over symbols when the grid has not advanced).
  int64_t filled_through_;
  RateLimiter limiter_{10, 60'000};
};

}  // namespace af::transforms
