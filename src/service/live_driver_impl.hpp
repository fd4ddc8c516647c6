#pragma once
// The private state of LiveDriver, shared by live_driver.cpp (the run loop) and
// live_metrics.cpp (what the metrics endpoint shows). Fields written by the
// compute thread and read by the metrics thread are atomics.

#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/progress.hpp"
#include "runtime/engine.hpp"
#include "runtime/live_feed.hpp"
#include "runtime/symbol_table.hpp"
#include "service/compute_worker.hpp"
#include "service/latency_histogram.hpp"
#include "service/live_driver.hpp"
#include "service/snapshot_writer.hpp"
#include "service/status_board.hpp"
#include "service/state_store.hpp"

namespace af::service {

struct LiveDriver::Impl {
  dag::Plan plan;
  SignalEmitter* sinks = nullptr;
  const PluginSet* plugins = nullptr;  // outlives the driver (the command owns it)
  LiveOptions options;
  // The whole universe (plan_universe order): the ids the feeds, the status board
  // and the warmup tally use, whichever engine runs a symbol.
  SymbolTable universe;
  // One thread (--threads 1): the engine runs here, on the compute thread...
  std::unique_ptr<Engine> engine;
  LatencyBase engine_latency;
  // ...or several (--threads N): each worker runs its part of the universe, and
  // this thread polls the feeds and posts each bar to its symbol's worker.
  std::vector<std::unique_ptr<ComputeWorker>> workers;
  std::vector<std::vector<std::string>> worker_symbols;  // each worker's part
  std::vector<uint32_t> worker_of;                       // by universe id
  std::vector<SymbolId> local_id;                        // by universe id: the id in its worker's engine
  std::vector<std::vector<ComputeWorker::Item>> outbox;  // per worker, posted after each poll
  std::mutex on_prediction_mutex;                        // workers' records reach options.on_prediction one at a time
  std::optional<StateStore> store;
  std::unique_ptr<SnapshotWriter> snapshot_writer;  // with a store; after it, so destroyed first

  // One feed per data step (Plan::sources), and its universe index -> engine symbol.
  struct Feed {
    size_t source = 0;
    std::unique_ptr<LiveFeed> feed;
    std::vector<SymbolId> symbol_ids;
    int64_t interval_ms = 0;
  };
  std::vector<Feed> feeds;

  std::atomic<uint64_t> events{0}, history_bars{0}, catch_up_bars{0}, live_bars{0}, predictions{0};
  std::atomic<uint64_t> duplicates{0}, revisions{0}, nan_skipped{0};
  std::atomic<int64_t> warmup_started_ms{0}, warmup_done_ms{0};
  // Warmup's size: history bars expected (from each symbol's start to the first
  // message's anchor, one per interval; gaps make it an upper bound) and received.
  std::atomic<uint64_t> warmup_bars_expected{0}, warmup_bars_loaded{0};
  std::atomic<bool> warmup_done{false}, restored{false};
  std::atomic<int64_t> anchor{0};
  int64_t snapshot_max_age_ms = 0;  // resolved from the options
  LatencyHistogram close_to_emit;  // seconds from a live bar found final to its record handed to the sinks
  StatusBoard status;              // per symbol, for /status

  mutable std::mutex failure_mutex;
  std::string failure;  // a feed's fatal error, for /healthz

  // Per (source, symbol) what warmup delivered, for the summary line.
  struct WarmupTally {
    uint64_t bars = 0;
    int64_t first = std::numeric_limits<int64_t>::max();
    int64_t last = std::numeric_limits<int64_t>::min();
    void add(int64_t ts) {
      ++bars;
      first = std::min(first, ts);
      last = std::max(last, ts);
    }
  };
  // Warmup's progress line: at most this often, whatever the bar rate.
  static constexpr int64_t kWarmupProgressEveryMs = 5'000;
  // The state of the pump loop (compute thread): what run() hands from phase to phase.
  struct Pump {
    int64_t anchor = 0;
    bool restored = false;
    std::vector<bool> history_complete;            // per feed
    std::vector<std::vector<LiveFeedBar>> held;    // several feeds: history held until all are complete
    std::vector<LiveFeedBar> batch;                // one poll's bars, reused
    std::map<std::pair<size_t, SymbolId>, WarmupTally> tally;
    int64_t last_snapshot = 0;
    int64_t last_rss_log = std::numeric_limits<int64_t>::min();
    ProgressThrottle warmup_progress{kWarmupProgressEveryMs};
    int64_t warmup_started_steady = 0;
  };


  // The phases of run(), in order.
  // 1. The engine from the state directory's snapshot, if usable (else fresh).
  Result<std::optional<Snapshot>> restore();
  // 2. The earliest anchor over the feeds (a condition-variable wait on each);
  //    nullopt when stop came first; a feed's failure.
  Result<std::optional<int64_t>> await_anchor(const std::atomic<bool>& stop);
  // 3. Where each symbol's history starts (warmup.hpp, or the snapshot's catch-up).
  //    `history_end`: where history ends and the stream begins (the first
  //    message's anchor), for the expected warmup size.
  void begin_history(int64_t anchor_ts, int64_t history_end, const std::optional<Snapshot>& snapshot);
  // 4. History, then live bars through the engine, snapshots on the way, until
  //    stop (nullopt) or a feed fails (its error).
  std::optional<Error> pump(const std::atomic<bool>& stop, int64_t anchor_ts, bool restored_run);
  // 5. Feeds, then sinks, then the last snapshot; the report or the failure.
  Result<LiveReport> finish(std::optional<Error> failed, LiveReport report,
                            std::chrono::steady_clock::time_point started);
  // Pieces of pump().
  std::optional<Error> poll_feeds(const std::atomic<bool>& stop, Pump& pump);
  void process(size_t feed_index, const LiveFeedBar& bar, Pump& pump);
  void run_merged_history(Pump& pump);
  void on_warmup_done(Pump& pump);
  // The engine's model batching counters so far (`until`: "warmup", "run").
  void log_model_batching(const char* until) const;
  void snapshot_if_due(Pump& pump);
  std::optional<int64_t> timers_clock() const;
  // The warmup progress line (every kWarmupProgressEveryMs, and at the end).
  void log_warmup_progress(Pump& pump, bool final);

  // A record of `from` (its engine), whose latency base is `base`; on that engine's thread.
  void on_prediction(const Engine& from, LatencyBase& base, const PredictionRecord& r);

  // The engines (compute_threads.cpp).
  bool threaded() const { return !workers.empty(); }
  // Builds the engine or the workers and their engines afresh (also after a
  // failed load; workers only before they start).
  Status build_engines();
  // A closed bar of universe symbol `id` from data step `source`: run here, or
  // queued for its worker (posted by post_outbox).
  void run_bar(size_t source, SymbolId id, const LiveFeedBar& bar);
  void post_outbox();
  void run_clock(int64_t now);
  // Every worker idle: what was posted is processed and its records emitted.
  void wait_engines_idle();
  bool engines_idle() const;
  bool models_pending() const;
  void flush_models();
  std::optional<Error> engine_failure() const;
  // Only while the engines are idle:
  int64_t last_processed(size_t source, SymbolId id);
  void set_anchor(int64_t anchor_ts);
  Status load_engines(const std::string& state);
  Result<std::string> save_engines();
  // Counters summed over the engines (the workers' published copies).
  struct EngineTotals {
    uint64_t duplicates = 0, revisions = 0, nan_skipped = 0;
    uint64_t batched_model_runs = 0, model_batches = 0, largest_model_flush = 0;
  };
  EngineTotals engine_totals() const;
  // The anchor without a usable snapshot: after the sinks' newest predictions, bounded.
  int64_t anchor_from_sinks(int64_t first_message_anchor) const;
  std::string metrics_text() const;
  std::string status_json() const;  // live_status.cpp
  // ms since the newest snapshot (or the end of warmup); -1 without a store or before warmup.
  int64_t snapshot_age_ms(int64_t now) const;
  HealthStatus health() const;
};

}  // namespace af::service
