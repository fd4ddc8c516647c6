#pragma once
// ComputeWorker: one compute thread of `signal --threads N`. It owns an Engine
// over its part of the universe (runtime/threaded_replay.hpp's split, the
// sharding hash) and runs the bars the driver's thread posts to it, in the
// order posted; every symbol lives on one worker, so each symbol's bars and
// records keep their order. When its queue runs dry it completes the model runs
// its engine deferred (one batch for the bars of a close), then reports idle.
//
// The driver's thread posts (post) and, only while the worker is idle (after
// wait_idle, and before it posts again), reads or writes the engine: snapshots,
// the last processed bars, the anchor. The mutex handed over in post/wait_idle
// orders those accesses with the worker's. Records are delivered on the worker's
// thread (the engine's deliver callback).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "runtime/engine.hpp"

namespace af::service {

// What a record's bar-close-to-emit latency is measured from, for one engine: the
// bar in flight, and per symbol the newest bar (a batched model run emits its
// record later, at the flush). Written and read on the engine's thread only.
struct LatencyBase {
  int64_t final_at_us = 0;  // when the bar in flight was found final (feed_clock_us)
  bool live = false;        // the bar in flight is live, not warmup history
  std::vector<int64_t> symbol_final_at_us;  // by the engine's SymbolId
  std::vector<uint8_t> symbol_live;

  explicit LatencyBase(size_t symbols = 0) : symbol_final_at_us(symbols, 0), symbol_live(symbols, 0) {}
  void on_bar(SymbolId symbol, bool is_live, int64_t found_final_at_us) {
    live = is_live;
    final_at_us = found_final_at_us;
    symbol_live[symbol] = is_live ? 1 : 0;
    symbol_final_at_us[symbol] = found_final_at_us;
  }
};

class ComputeWorker {
 public:
  struct Item {
    bool clock = false;  // a clock reading for the timers instead of a bar
    size_t source = 0;
    SymbolId symbol = 0;  // in this worker's engine
    Bar bar;
    bool live = false;
    int64_t final_at_us = 0;
    int64_t now = 0;  // the clock reading
  };
  // Engine counters, published after every batch for the driver's metrics.
  struct Counters {
    std::atomic<uint64_t> duplicates{0}, revisions{0}, nan_skipped{0};
    std::atomic<uint64_t> batched_model_runs{0}, model_batches{0}, largest_model_flush{0};
  };

  // `index`: the worker's number, for its thread's name and messages.
  ComputeWorker(size_t index, std::unique_ptr<Engine> engine);
  ~ComputeWorker();  // stop()
  ComputeWorker(const ComputeWorker&) = delete;
  ComputeWorker& operator=(const ComputeWorker&) = delete;

  void start();
  // Appends `items` to the queue (and clears them), one wake-up for all.
  void post(std::vector<Item>& items);
  // Until everything posted is processed and the deferred model runs completed.
  void wait_idle();
  // The same without waiting: nothing queued or in progress right now.
  bool idle() const;
  // Runs what was posted, then the thread ends (idempotent).
  void stop();

  // Only while idle, or before start()/after stop().
  Engine& engine() { return *engine_; }
  void replace_engine(std::unique_ptr<Engine> engine);
  LatencyBase& latency_base() { return base_; }
  const Counters& counters() const { return counters_; }
  // The first event loop the engine's chain guard stopped (then the worker runs nothing more).
  std::optional<Error> failure() const;

 private:
  void run();
  void publish_counters();

  size_t index_;
  std::unique_ptr<Engine> engine_;
  LatencyBase base_;
  Counters counters_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::vector<Item> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::optional<Error> failure_;
  std::thread thread_;
};

}  // namespace af::service
