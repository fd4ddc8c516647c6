#pragma once
// Transform: turns the rows of one frame into the rows of another (resample 15m to
// 2h, align to a common grid). One instance per transform step, shared by all
// symbols (align needs to see every symbol); per-symbol state lives inside it,
// indexed by SymbolId. Owned by the Engine; compute thread.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "common/state_archive.hpp"
#include "frame/frame.hpp"
#include "registry/param.hpp"
#include "registry/registry.hpp"

namespace af {

// Receives the rows a transform completes. extra: values of the descriptor's
// extra_frame_columns for that row (e.g. filled = 1), in order.
class TransformOutput {
 public:
  virtual ~TransformOutput() = default;
  virtual void emit(SymbolId symbol, const Bar& bar, std::span<const double> extra) = 0;
};

class Transform {
 public:
  virtual ~Transform() = default;
  // A new row (as a bar) of the input frame for `symbol`, in ts order per symbol.
  virtual void on_bar(SymbolId symbol, const Bar& bar, TransformOutput& out) = 0;
  // Forgets everything kept for `symbol` (an open bucket, its last bar) without
  // emitting it: its next bar is handled as its first (replay --gap-policy reset).
  virtual void reset(SymbolId symbol) = 0;
  virtual void save(StateWriter& w) const = 0;
  virtual bool load(StateReader& r) = 0;
  // Whether the state is kept per symbol with nothing shared between symbols
  // (resample; not align). Then the engine snapshots each symbol's part apart
  // (save_symbol/load_symbol), so a snapshot taken by engines that split the
  // symbols one way (signal --threads) loads into engines split another way.
  virtual bool per_symbol_state() const { return false; }
  virtual void save_symbol(SymbolId symbol, StateWriter& w) const {
    (void)symbol;
    (void)w;
  }
  virtual bool load_symbol(SymbolId symbol, StateReader& r) {
    (void)symbol;
    (void)r;
    return false;
  }
};

struct TransformContext {
  const registry::Params& params;
  int64_t input_interval_ms;
  int64_t output_interval_ms;
  const std::vector<std::string>& symbols;  // index = SymbolId
};

using TransformRegistry = registry::Registry<Transform, TransformContext>;

}  // namespace af
