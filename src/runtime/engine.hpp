#pragma once
// Engine: the compute core. Holds the frames, every operator instance, the event
// router, the processed-event tracker and the prediction emitter, and runs a
// closed source bar through its flows (and the flows of every frame it chains
// into). The same code runs warmup history, replay and live bars; whether a bar
// produces a record depends only on its ts relative to the anchor.
// Owned by the driver (replay or signal); every call comes from one thread, the
// compute thread. No allocation per bar in steady state.

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/diagnostic.hpp"
#include "common/result.hpp"
#include "common/state_archive.hpp"
#include "dag/plan.hpp"
#include "frame/frame.hpp"
#include "runtime/event_key.hpp"
#include "runtime/event_router.hpp"
#include "runtime/plugin_set.hpp"
#include "runtime/prediction_emitter.hpp"
#include "runtime/processed_event_tracker.hpp"
#include "runtime/symbol_table.hpp"
#include "runtime/timer_schedule.hpp"

namespace af {

// Whether the drivers batch model runs across symbols (Engine::set_model_batching):
// yes, unless the environment variable AF_MODEL_BATCHING is "0" (per-symbol runs,
// to compare the two in tests and benchmarks; the results are the same).
bool model_batching_wanted();

struct EngineStats {
  uint64_t source_bars = 0;      // closed bars offered to on_source_bar
  uint64_t duplicates = 0;       // re-delivered identical bars, dropped
  uint64_t revisions = 0;        // re-delivered different bars for a processed ts, logged, dropped
  uint64_t unknown_symbols = 0;  // bars of symbols outside the universe, dropped
  uint64_t flow_runs = 0;
  uint64_t derived_bars = 0;     // rows produced by transforms
  uint64_t max_chain_depth = 0;
  uint64_t timer_ticks = 0;      // timer.<interval> ticks fired
  uint64_t timer_no_row = 0;     // (tick, step, symbol) skipped: the symbol had no row on the step's frame yet
  uint64_t signal_runs = 0;      // steps run on signal.generated
  uint64_t batched_model_runs = 0;  // model runs deferred and run in a batch (set_model_batching)
  uint64_t model_batches = 0;       // predict_batch calls made for them
  uint64_t largest_model_flush = 0; // deferred rows completed by one flush_models()
};

class Engine {
 public:
  // Called after a frame's flow has filled a new row (warmup rows included).
  using RowObserver = std::function<void(int frame, SymbolId symbol, const SymbolSeries& series)>;

  static constexpr int kMaxChainDepth = 100;

  // Builds every operator from the plan. Model and transform factories may fail
  // (a bad checkpoint): the first failure is returned, naming the step.
  static Result<std::unique_ptr<Engine>> create(const dag::Plan& plan, const PluginSet& plugins,
                                                PredictionEmitter::Deliver deliver);
  // Builds one instance of every step's operator exactly as create() does (models
  // load their checkpoints, resolve their input columns) and reports each failure
  // at its step's place in the pipeline file. `validate` and every command's
  // start run it, so a pipeline that validates also starts.
  static void check(const dag::Plan& plan, const PluginSet& plugins, Diagnostics& diags);

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Source bars with ts >= anchor are "streamed": their predictions are emitted.
  // Bars before it are warmup history. Default: everything is streamed.
  void set_anchor(int64_t anchor_ts) { anchor_ts_ = anchor_ts; }
  int64_t anchor() const { return anchor_ts_; }
  // The observer sees the rows of each frame in the order they were appended.
  // With model batching, a frame whose flow holds a deferred model reports its
  // row when the row is complete (at the flush), so rows of different frames
  // may interleave differently than without it.
  void set_row_observer(RowObserver observer) { row_observer_ = std::move(observer); }

  // Model batching across symbols (engine_batch.cpp; off by default). When on, a
  // model step whose Model::preferred_batch() is above 1 and that is followed in
  // its flow by no transform is not run when a row reaches it: the rest of that
  // row's work (the model, the steps after it, signal.generated, the row observer,
  // the record) waits until flush_models(), which finishes the waiting rows in the
  // order they arrived, running the model with predict_batch for the next
  // preferred_batch() waiting rows whenever it reaches one not yet predicted (so
  // the first records go out after one chunk's compute, not the whole batch's). Everything is as if each row had run at once: the engine
  // flushes by itself before anything could tell the difference (another event of
  // a waiting symbol, a record of any other row, reset_symbol), and the drivers
  // flush when their input runs dry (live: the feeds' queues are empty; replay:
  // at the end) and before a snapshot (save() requires nothing waiting).
  void set_model_batching(bool on) { batching_ = on; }
  bool model_batching() const { return batching_; }
  void flush_models();
  bool models_pending() const { return !pending_.empty(); }
  // True while flush_models() finishes deferred rows: a record delivered now
  // belongs to the newest source bar of its own symbol, not to the bar in flight.
  bool flushing_models() const { return flushing_; }
  // The driver's key of the event in flight (threaded replay: its place in the
  // single-thread order). A deferred row keeps the key of the event that made it,
  // and while flush_models() completes the row, event_key() is that key again: the
  // deliver callback reads it to know which event a record belongs to.
  void set_event_key(const EventKey& key) { event_key_ = key; }
  const EventKey& event_key() const { return event_key_; }

  // A closed bar of data step `source` (index into Plan::sources). Returns false
  // when it was dropped (duplicate, revision, unknown symbol).
  bool on_source_bar(size_t source, SymbolId symbol, const Bar& bar);

  // The exchange's clock reached `now` (ms): fires every symbol's timer ticks due
  // by then (on_source_bar fires a symbol's ticks before its bar itself). Replay
  // calls it with the last bar's close at the end; live with the feed's clock.
  void on_clock(int64_t now);
  // The first event loop the chain guard stopped (the engine runs nothing after
  // it): the driver ends the run with it.
  const std::optional<Error>& failure() const { return failure_; }

  const SymbolTable& symbols() const { return symbols_; }
  const Frame& frame(size_t i) const { return *frames_[i]; }
  size_t frame_count() const { return frames_.size(); }
  const EngineStats& stats() const { return stats_; }
  const PredictionEmitter& emitter() const { return *emitter_; }
  const dag::Plan& plan() const { return plan_; }
  // Highest processed ts of a source for a symbol (INT64_MIN if none).
  int64_t last_processed(size_t source, SymbolId symbol) const;

  // `symbol` starts afresh on data step `source`, as if its history began with the
  // next bar (replay --gap-policy reset, at a gap): on the source's frame and every
  // frame its transforms derive, the symbol's rows are cleared, its features are
  // re-created by their factories and each transform forgets its state for it. Other
  // symbols, and frames fed by other data steps, are untouched; the processed-event
  // and emitted marks stay, so nothing is processed or emitted twice.
  Status reset_symbol(size_t source, SymbolId symbol);

  // Snapshot of every piece of state (frames, operators, tracker, emitter marks,
  // timers), keyed by symbol name (runtime/engine_state.hpp). load() reads the
  // parts of this engine's symbols and skips the others, so the snapshot of one
  // engine over a universe, or the joined snapshots of several over its parts
  // (signal --threads), loads into engines split any other way. A symbol of this
  // engine missing from the snapshot is an error: the caller warms up afresh.
  // A failed load leaves the engine half loaded: build it again.
  void save(StateWriter& w) const;
  Status load(StateReader& r);

 private:
  struct StepRuntime;
  class ChainOutput;

  Engine(const dag::Plan& plan, SymbolTable symbols);
  // The operators of one step (feature_instances: one per symbol), from its plugin's factory.
  static Status build_step(const dag::Plan& p, const dag::StepPlan& sp, const PluginSet& plugins,
                           const SymbolTable& symbols, size_t feature_instances, StepRuntime& rt);
  void save_symbol(SymbolId symbol, StateWriter& w) const;
  bool load_symbol(SymbolId symbol, StateReader& r);
  void append_and_run(int frame, SymbolId symbol, const Bar& bar, std::span<const double> extra, int depth);
  // Runs `flow`'s steps from position `first` on for the newest row of `frame`,
  // then signal.generated; false when a model step deferred the rest (batching).
  bool run_flow(int flow, int frame, SymbolId symbol, const Bar& bar, int depth, size_t first);
  // After the flow: the row observer and, on the prediction frame, the record.
  void complete_row(int frame, SymbolId symbol, const Bar& bar);
  // Model batching (engine_batch.cpp).
  struct DeferredRow {
    int flow = -1;
    int frame = -1;
    size_t pos = 0;  // the deferred model step's position in the flow
    int depth = 0;
    SymbolId symbol = 0;
    Bar bar;
    bool streamed = false;
    BarOrigin origin = BarOrigin::kArchive;
    EventKey key;
    bool predicted = false;  // the model's column is written (flush_models)
  };
  void init_batching();
  void defer_row(int flow, int frame, size_t pos, SymbolId symbol, const Bar& bar, int depth);
  // One predict_batch for waiting row `first` and the next waiting rows of the same
  // model step, up to its preferred_batch().
  void predict_deferred(size_t first);
  int deferred_step(const DeferredRow& d) const;
  // What a record about to be emitted outside a flush needs: every deferred row
  // before it emitted first.
  void before_record() {
    if (!pending_.empty() && !flushing_) flush_models();
  }
  // The chain guard's links for a row of `frame` at `depth` (its path of frames
  // from the data step), as they were when the row was deferred.
  void restore_chain(int frame, int depth);
  // The frames whose rows come from `source`'s frame: itself and, transitively, the
  // output frames of the transforms reading them.
  std::vector<uint8_t> frames_fed_by(size_t source) const;

  // Events beyond a frame's rows (engine_events.cpp): timers, signal.generated,
  // the chain guard.
  struct ChainLink {
    const std::string* event = nullptr;
    const std::string* step = nullptr;  // the step that fired it, if any
  };
  void init_events();
  void fire_timers(SymbolId symbol, int64_t now);  // the symbol's ticks due by `now`
  void fire_timer(const TimerTick& tick, SymbolId symbol);
  // Runs model step `step` on the newest row of its frame for `symbol`; false
  // when the symbol has no row there yet.
  bool run_subscribed_model(int step, SymbolId symbol, int depth);
  // Model step `step` over `series`, written to its column of the newest row.
  double run_model(int step, SymbolId symbol, SymbolSeries& series);
  // signal.generated after `from_step`'s prediction: every other subscriber runs.
  void fire_signal_generated(int from_step, SymbolId symbol, int depth);
  // Records the event at `depth` of the chain; false (and the failure set, once)
  // when the chain is deeper than kMaxChainDepth.
  bool enter_chain(int depth, const std::string* event, const std::string* step, SymbolId symbol);
  void offer_prediction(SymbolId symbol, int64_t ts);

  dag::Plan plan_;
  SymbolTable symbols_;
  std::vector<std::unique_ptr<Frame>> frames_;
  std::vector<std::string> frame_names_;  // stable storage for record pointers
  std::string dag_name_;
  std::string prediction_frame_name_;
  std::string prediction_column_name_;
  EventRouter router_;
  ProcessedEventTracker tracker_;
  std::unique_ptr<PredictionEmitter> emitter_;
  std::vector<StepRuntime> steps_;
  std::vector<int> source_of_frame_;  // -1 for derived frames
  RowObserver row_observer_;
  int64_t anchor_ts_ = std::numeric_limits<int64_t>::min();
  EngineStats stats_;
  TimerSchedule timers_;
  std::vector<int> signal_fired_by_;  // per step: 1 for a model whose finite prediction fires signal.generated
  bool prediction_on_rows_ = true;    // the emitted column is filled by its frame's flow (not only by `on:` events)
  std::string signal_event_name_ = "signal.generated";
  std::array<ChainLink, kMaxChainDepth> chain_{};
  std::optional<Error> failure_;
  // Model batching (engine_batch.cpp).
  bool batching_ = false;
  bool flushing_ = false;
  std::vector<DeferredRow> pending_;  // in arrival order; at most one per symbol
  std::vector<uint8_t> pending_of_;   // per symbol: a row of it is in pending_
  std::vector<SymbolId> batch_symbols_;
  std::vector<const SymbolSeries*> batch_series_;
  std::vector<double> batch_out_;
  std::vector<size_t> batch_rows_;  // indexes into pending_ of one batch
  // State of the event in flight.
  int64_t timer_slot_ = std::numeric_limits<int64_t>::min();  // a timer tick's record label, else INT64_MIN
  bool streamed_ = false;
  BarOrigin origin_ = BarOrigin::kArchive;
  EventKey event_key_;
};

}  // namespace af
