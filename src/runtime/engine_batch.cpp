// Model batching across symbols (issue 15 item 3): a model step that prefers
// batches defers each row that reaches it; flush_models() finishes the deferred
// rows in the order they arrived, running the model for a chunk of the waiting
// symbols at a time (Model::predict_batch, bit-identical to predict one by one).
//
// Why the result is exactly what running each row at once gives: what a deferred
// row still has to do touches only its own symbol's state (its row on the model's
// frame, the per-symbol features after the model, its newest rows on the frames
// of signal.generated subscribers) plus two things shared by all symbols: the
// order of records and the model's scratch space (no state between calls). No
// transform may follow the model in its flow (a transform can emit rows of other
// symbols: `transforms.align`); such a step is never deferred. Everything else
// that could observe the difference flushes first:
// - a new row of a waiting symbol on any frame (append_and_run), a model run on
//   its rows by an event (run_subscribed_model), and the rest of a flow whose
//   transform just completed a waiting row: the symbol's rows complete in order;
// - any record about to be emitted outside a flush (before_record): records keep
//   their order;
// - reset_symbol, and the drivers before save().
// So the deferred work commutes with everything that runs meanwhile. The row
// observer (replay --dump) sees each frame's rows in the same order; rows of
// different frames may interleave differently (each frame has its own file).
// One difference is left on purpose: when the chain guard stops the engine in a
// deferred row, the rows that arrived while it waited have been appended (not
// predicted, nothing emitted); the run ends with that failure either way, and
// the records and the failure are the same.

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

#include "runtime/engine.hpp"
#include "runtime/engine_step_runtime.hpp"

namespace af {

bool model_batching_wanted() {
  const char* v = std::getenv("AF_MODEL_BATCHING");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

void Engine::init_batching() {
  // Which model steps defer: those whose model gains from batches, with no
  // transform after them in their flow.
  for (const auto& flow : plan_.flows) {
    bool transform_after = false;
    for (auto it = flow.steps.rbegin(); it != flow.steps.rend(); ++it) {
      StepRuntime& rt = steps_[*it];
      if (rt.kind == registry::PluginKind::kTransform) transform_after = true;
      if (rt.kind == registry::PluginKind::kModel)
        rt.batchable = !transform_after && rt.model && rt.model->preferred_batch() > 1 && rt.first_output >= 0;
    }
  }
  const size_t n = symbols_.size();
  pending_of_.assign(n, 0);
  pending_.reserve(n);
  batch_symbols_.reserve(n);
  batch_series_.reserve(n);
  batch_out_.reserve(n);
  batch_rows_.reserve(n);
}

void Engine::defer_row(int flow, int frame, size_t pos, SymbolId symbol, const Bar& bar, int depth) {
  assert(!pending_of_[symbol]);  // append_and_run and run_flow flush a waiting symbol first
  pending_of_[symbol] = 1;
  DeferredRow d;
  d.flow = flow;
  d.frame = frame;
  d.pos = pos;
  d.depth = depth;
  d.symbol = symbol;
  d.bar = bar;
  d.streamed = streamed_;
  d.origin = origin_;
  d.key = event_key_;
  pending_.push_back(d);
}

void Engine::restore_chain(int frame, int depth) {
  // A row at depth d was appended by the transform producing its frame, from a
  // row of that transform's input frame at depth d - 1, down to the data step.
  for (int k = depth, f = frame; k >= 0 && f >= 0; --k) {
    const int producer = plan_.frames[f].producer_step;
    chain_[static_cast<size_t>(k)] =
        ChainLink{&plan_.frames[f].event, producer >= 0 ? &plan_.steps[producer].label : nullptr};
    f = producer >= 0 ? plan_.steps[producer].frame : -1;
  }
}

int Engine::deferred_step(const DeferredRow& d) const { return plan_.flows[d.flow].steps[d.pos]; }

void Engine::predict_deferred(size_t first) {
  const int step = deferred_step(pending_[first]);
  StepRuntime& rt = steps_[step];
  const size_t chunk = std::max<size_t>(1, rt.model->preferred_batch());
  batch_rows_.clear();
  batch_symbols_.clear();
  batch_series_.clear();
  for (size_t i = first; i < pending_.size() && batch_rows_.size() < chunk; ++i) {
    const DeferredRow& d = pending_[i];
    if (d.predicted || deferred_step(d) != step) continue;
    batch_rows_.push_back(i);
    batch_symbols_.push_back(d.symbol);
    batch_series_.push_back(&frames_[d.frame]->series(d.symbol));
  }
  batch_out_.assign(batch_rows_.size(), 0.0);
  rt.model->predict_batch(batch_symbols_, batch_series_, batch_out_);
  for (size_t k = 0; k < batch_rows_.size(); ++k) {
    DeferredRow& d = pending_[batch_rows_[k]];
    frames_[d.frame]->series(d.symbol).mutable_row(0)[rt.first_output] = batch_out_[k];
    d.predicted = true;
  }
  ++stats_.model_batches;
  stats_.batched_model_runs += batch_rows_.size();
}

void Engine::flush_models() {
  if (pending_.empty() || flushing_) return;
  flushing_ = true;
  // The event in flight (a flush may come in the middle of one) gets its state back.
  const bool streamed = streamed_;
  const BarOrigin origin = origin_;
  const EventKey key = event_key_;
  const int64_t timer_slot = timer_slot_;
  const auto chain = chain_;
  timer_slot_ = std::numeric_limits<int64_t>::min();

  // Each row in arrival order: its model's column (a chunk of the waiting rows of
  // that step at a time: a symbol's window is as it was when its row was deferred,
  // nothing of the symbol has run since), then the rest of the row.
  stats_.largest_model_flush = std::max<uint64_t>(stats_.largest_model_flush, pending_.size());
  for (const DeferredRow& d : pending_) pending_of_[d.symbol] = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (failure_) break;  // an event loop stopped the engine
    if (!pending_[i].predicted) predict_deferred(i);
    const DeferredRow& d = pending_[i];
    streamed_ = d.streamed;
    origin_ = d.origin;
    event_key_ = d.key;
    restore_chain(d.frame, d.depth);
    if (run_flow(d.flow, d.frame, d.symbol, d.bar, d.depth, d.pos + 1)) complete_row(d.frame, d.symbol, d.bar);
  }
  pending_.clear();

  streamed_ = streamed;
  origin_ = origin;
  event_key_ = key;
  timer_slot_ = timer_slot;
  chain_ = chain;
  flushing_ = false;
}

}  // namespace af
