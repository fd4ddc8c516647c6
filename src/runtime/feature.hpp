#pragma once
// Feature: an incremental operator for one (feature step, symbol). The executor
// calls update() once per new row of the step's frame, in ts order, with the
// row's input values; the feature writes its outputs. O(1) amortised work per
// call, no allocation in steady state; the feature keeps whatever history it
// needs itself (it never reads the frame). Owned by the Engine; compute thread.

#include <memory>
#include <span>

#include "common/result.hpp"
#include "common/state_archive.hpp"
#include "registry/param.hpp"
#include "registry/registry.hpp"

namespace af {

class Feature {
 public:
  virtual ~Feature() = default;

  // inputs: one value for InputKind::kColumn; for kBar, the Descriptor's
  // bar_columns in order. outputs: one slot per output column, preset to NaN;
  // leave NaN until valid. Leading NaN inputs never reach update(): the executor
  // starts a feature at its input's first valid value (as TA-Lib skips them).
  virtual void update(std::span<const double> inputs, std::span<double> outputs) = 0;

  // Snapshot support: write/read every member that update() changes.
  virtual void save(StateWriter& w) const = 0;
  virtual bool load(StateReader& r) = 0;
};

struct FeatureContext {
  const registry::Params& params;
  int output_count;  // how many output columns the step names (within the descriptor's min..max)
};

using FeatureRegistry = registry::Registry<Feature, FeatureContext>;

}  // namespace af
