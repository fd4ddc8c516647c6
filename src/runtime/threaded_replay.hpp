#pragma once
// ThreadedReplay: `replay --threads N`. The universe's symbols are split over N
// compute threads by the stable symbol hash of sharding (common/shard.hpp); each
// thread owns its symbols' frames and state: a plan cut to its symbols, its own
// Engine and its own run_replay (so each also loads and decodes its own bars).
// Every record is tagged with the place of the event that caused it in the order
// one thread feeds events (EventKey: the bar's close, data step and symbol; the
// final clock by symbol), and RecordMerge hands the records to `deliver` in that
// order, on the thread that calls run(): the sinks see exactly what `--threads 1`
// gives them, in the same order.
//
// Exact because nothing of one symbol depends on another's: a pipeline with a
// step that needs every symbol at once (step_needing_all_symbols) must run on one
// thread, which the caller decides. Every thread starts at the anchor of the whole
// universe (without --from: the earliest bar of all, each thread finding its own
// symbols' earliest in parallel), and at the end waits until all have fed their
// bars and stops its timers at the newest close of all of them, as one thread does. A failure stops the replay where one thread would have: no
// record of an event after the earliest failing one is handed on, and that
// failure is the one returned.
//
// Threads: create() and run() on the caller's thread, which also runs `deliver`
// and options.on_progress (with the sums over threads); one worker thread per
// part during run().

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "runtime/engine.hpp"
#include "runtime/plugin_set.hpp"
#include "runtime/replay_driver.hpp"

namespace af {

// The thread (0-based, of `threads`) that computes `symbol` in a process that runs
// one shard of `shards` (1 without --shard): fnv1a_64(symbol) / shards % threads.
// With one shard it is `--shard` of `threads` (shard K's symbols run on thread
// K - 1); dividing by `shards` first keeps a shard's symbols, which all share
// fnv1a_64 % shards, from landing on a single thread.
uint32_t replay_thread_of(std::string_view symbol, uint32_t threads, uint32_t shards = 1);

// Every symbol of the plan once, in order of first appearance: an Engine's ids.
std::vector<std::string> plan_universe(const dag::Plan& plan);
// `plan` with every data step's universe cut to `symbols` (kept in order): the
// plan of one thread's engine.
dag::Plan plan_for_symbols(const dag::Plan& plan, const std::vector<std::string>& symbols);

// The symbols of each thread that owns any (at most `threads` parts, none empty),
// each part in universe order. One part: nothing to split.
std::vector<std::vector<std::string>> split_universe(const dag::Plan& plan, uint32_t threads, uint32_t shards = 1);

// The first step whose rows for one symbol depend on the others' bars
// (Descriptor::needs_all_symbols, e.g. transforms.align), or nullptr.
const dag::StepPlan* step_needing_all_symbols(const dag::Plan& plan);

class ThreadedReplay {
 public:
  // One Engine per part of `parts` (split_universe), each from `plan` cut to its
  // symbols. `deliver` gets every record on run()'s thread, in single-thread order.
  static Result<std::unique_ptr<ThreadedReplay>> create(const dag::Plan& plan, const PluginSet& plugins,
                                                        const std::vector<std::vector<std::string>>& parts,
                                                        PredictionEmitter::Deliver deliver);
  ~ThreadedReplay();
  ThreadedReplay(const ThreadedReplay&) = delete;
  ThreadedReplay& operator=(const ThreadedReplay&) = delete;

  // Runs every part to its end. The report sums the parts' bars and gaps (the
  // largest gap: the largest of all, the earliest found of equals); the checks of
  // the whole run (warmup and range not empty) are made over the sums.
  Result<ReplayReport> run(const ReplayOptions& options);

  size_t threads() const { return parts_.size(); }
  EngineStats stats() const;  // summed over the engines (max_chain_depth: the largest)
  uint64_t predictions() const;
  uint64_t nan_skipped() const;

 private:
  struct Part;
  ThreadedReplay(const dag::Plan& plan, const PluginSet& plugins, PredictionEmitter::Deliver deliver);

  dag::Plan plan_;
  const PluginSet& plugins_;
  PredictionEmitter::Deliver deliver_;
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace af
