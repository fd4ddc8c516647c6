#pragma once
// Model: produces the prediction column from a window of rows of its frame. One
// instance per model step, shared by all symbols (per_symbol models resolve their
// weights by symbol inside). Stateless between calls apart from scratch space, so
// a prediction depends only on the rows it reads. Owned by the Engine; compute
// thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "frame/frame.hpp"
#include "registry/param.hpp"
#include "registry/registry.hpp"

namespace af {

class Model {
 public:
  virtual ~Model() = default;

  // Rows of the frame the model reads (its window); the frame keeps at least this many.
  virtual int64_t window() const = 0;

  // The prediction for the newest row of `series` (symbol `symbol`). NaN when the
  // window is not full or any input in it is NaN.
  virtual double predict(SymbolId symbol, const SymbolSeries& series) = 0;

  // Several symbols due at once (replay, or symbols closing together). Must give
  // results bit-identical to predict() one by one. The default loops.
  virtual void predict_batch(std::span<const SymbolId> symbols, std::span<const SymbolSeries* const> series,
                             std::span<double> out) {
    for (size_t i = 0; i < symbols.size(); ++i) out[i] = predict(symbols[i], *series[i]);
  }

  // How many symbols predict_batch takes in one pass over the weights: 1 (the
  // default) when a batch costs as much per prediction as predict() one by one.
  // Above 1, the Engine runs this step for the symbols of one close together, in
  // chunks of this size (Engine::set_model_batching); the results are the same,
  // bit for bit.
  virtual size_t preferred_batch() const { return 1; }
};

struct ModelContext {
  const registry::Params& params;
  const std::optional<std::string>& model_ref;
  // Names of the frame's columns, index = column index in SymbolSeries rows.
  // Only columns before `first_output_column` are inputs (the rest are outputs
  // of this or later steps).
  const std::vector<std::string>& frame_columns;
  int first_output_column;
  const std::vector<std::string>& symbols;  // index = SymbolId
  int64_t frame_capacity;                   // rows the frame keeps per symbol
};

using ModelRegistry = registry::Registry<Model, ModelContext>;

}  // namespace af
