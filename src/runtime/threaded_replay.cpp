#include "runtime/threaded_replay.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "common/fnv1a.hpp"
#include "runtime/record_merge.hpp"
#include "runtime/symbol_table.hpp"

namespace af {
namespace {

// A part publishes its records at least every this many events, so that the
// merge learns how far it is even while it emits nothing (warmup), and whenever
// this many records are waiting.
constexpr uint32_t kEventsPerPublish = 1024;
constexpr size_t kRecordsPerBatch = 1024;

constexpr int64_t kNoClock = std::numeric_limits<int64_t>::min();

}  // namespace

std::vector<std::string> plan_universe(const dag::Plan& plan) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& source : plan.sources)
    for (const auto& s : source.universe)
      if (seen.insert(s).second) out.push_back(s);
  return out;
}

dag::Plan plan_for_symbols(const dag::Plan& plan, const std::vector<std::string>& symbols) {
  const std::set<std::string> keep(symbols.begin(), symbols.end());
  dag::Plan out = plan;
  for (auto& source : out.sources) {
    std::vector<std::string> owned;
    for (const auto& s : source.universe)
      if (keep.count(s)) owned.push_back(s);
    dag::StepPlan& step = out.steps[static_cast<size_t>(source.step)];
    if (step.params.has("universe")) step.params.set("universe", owned);
    source.universe = std::move(owned);
  }
  return out;
}

uint32_t replay_thread_of(std::string_view symbol, uint32_t threads, uint32_t shards) {
  return static_cast<uint32_t>(fnv1a_64(symbol) / std::max<uint32_t>(1, shards) % std::max<uint32_t>(1, threads));
}

std::vector<std::vector<std::string>> split_universe(const dag::Plan& plan, uint32_t threads, uint32_t shards) {
  std::vector<std::vector<std::string>> parts(std::max<uint32_t>(1, threads));
  for (const auto& s : plan_universe(plan)) parts[replay_thread_of(s, threads, shards)].push_back(s);
  std::erase_if(parts, [](const std::vector<std::string>& p) { return p.empty(); });
  return parts;
}

const dag::StepPlan* step_needing_all_symbols(const dag::Plan& plan) {
  for (const auto& step : plan.steps)
    if (step.descriptor != nullptr && step.descriptor->needs_all_symbols) return &step;
  return nullptr;
}

// One thread's share: its engine and, during run(), where its records go.
struct ThreadedReplay::Part {
  std::unique_ptr<Engine> engine;
  std::vector<uint32_t> global_of_local;  // engine SymbolId -> index in the whole universe
  // During run(), on the part's thread only.
  RecordMerge* merge = nullptr;
  size_t lane = 0;
  std::vector<KeyedRecord> batch;
  EventKey key = EventKey::lowest();  // the event in flight
  bool final_phase = false;
  bool stopped = false;  // stopped because another part failed earlier

  void on_record(const PredictionRecord& r) {
    // The engine's key: a record of a row whose model run waited for a batch
    // (Engine::flush_models) carries the key of the event that made the row, not
    // the event in flight; waiting rows complete in key order, before any record
    // of a later event, so the lane's records stay in key order.
    EventKey record_key = engine->event_key();
    if (final_phase) {
      // Engine::on_clock walks the symbols in order: the record's symbol is the event.
      const auto local = static_cast<size_t>(r.symbol - engine->symbols().names().data());
      key = EventKey::final_clock(global_of_local[local]);
      record_key = key;
    }
    batch.push_back(KeyedRecord{record_key, r});
    if (batch.size() >= kRecordsPerBatch) merge->publish(lane, batch, record_key);
  }
};

ThreadedReplay::ThreadedReplay(const dag::Plan& plan, const PluginSet& plugins, PredictionEmitter::Deliver deliver)
    : plan_(plan), plugins_(plugins), deliver_(std::move(deliver)) {}

ThreadedReplay::~ThreadedReplay() = default;

Result<std::unique_ptr<ThreadedReplay>> ThreadedReplay::create(const dag::Plan& plan, const PluginSet& plugins,
                                                               const std::vector<std::vector<std::string>>& parts,
                                                               PredictionEmitter::Deliver deliver) {
  std::unique_ptr<ThreadedReplay> replay(new ThreadedReplay(plan, plugins, std::move(deliver)));
  const SymbolTable universe(plan_universe(plan));
  for (const auto& symbols : parts) {
    auto part = std::make_unique<Part>();
    Part* p = part.get();
    auto engine = Engine::create(plan_for_symbols(plan, symbols), plugins,
                                 [p](const PredictionRecord& r) { p->on_record(r); });
    if (!engine) return engine.error();
    p->engine = std::move(engine).value();
    for (const auto& name : p->engine->symbols().names()) {
      const auto id = universe.find(name);
      if (!id) return make_error("symbol " + name + " is not in the pipeline's universe");
      p->global_of_local.push_back(static_cast<uint32_t>(*id));
    }
    p->batch.reserve(kRecordsPerBatch);
    replay->parts_.push_back(std::move(part));
  }
  return replay;
}

namespace {

// A part's progress, written by its thread, summed by the caller's.
struct PartProgress {
  std::atomic<bool> reported{false};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> bars{0};
  std::atomic<uint64_t> expected_bars{0};
  std::atomic<int64_t> position{0};
  std::atomic<int64_t> start{0};
  std::atomic<int64_t> end{0};
};

// Where every part waits for all the others, once: for the anchor (the earliest
// of theirs) and for the final clock (the latest of their closes). A part arrives
// with its value (nullopt: none) or leaves (it ended before getting there); every
// one gets the combined value of those that arrived, and whether one left.
class PartBarrier {
 public:
  PartBarrier(size_t parts, bool latest) : waiting_(parts), latest_(latest) {}

  std::pair<std::optional<int64_t>, bool> arrive(std::optional<int64_t> v) {
    std::unique_lock lock(mutex_);
    if (v) value_ = !value_ ? *v : latest_ ? std::max(*value_, *v) : std::min(*value_, *v);
    if (--waiting_ == 0) cv_.notify_all();
    else cv_.wait(lock, [&] { return waiting_ == 0; });
    return {value_, left_};
  }
  void leave() {
    std::lock_guard lock(mutex_);
    left_ = true;
    if (--waiting_ == 0) cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  size_t waiting_;
  const bool latest_;
  std::optional<int64_t> value_;
  bool left_ = false;
};

}  // namespace

Result<ReplayReport> ThreadedReplay::run(const ReplayOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  ReplayOptions shared = options;
  shared.part_of_universe = true;
  shared.on_progress = nullptr;

  const size_t n = parts_.size();
  RecordMerge merge(n);
  PartBarrier anchor_barrier(n, false);
  PartBarrier clock_barrier(n, true);
  std::unique_ptr<PartProgress[]> progress(new PartProgress[n]);
  std::vector<std::optional<Result<ReplayReport>>> results(n);
  std::vector<std::optional<EventKey>> failed_at(n);

  auto run_part = [&](size_t t) {
    Part& p = *parts_[t];
    p.merge = &merge;
    p.lane = t;
    p.key = EventKey::lowest();
    p.final_phase = false;
    p.stopped = false;
    bool reached_anchor = false;
    bool reached_clock = false;
    uint32_t since_publish = 0;
    ReplayOptions o = shared;
    if (options.on_progress) {
      o.on_progress = [&pp = progress[t]](const ReplayProgress& rp) {
        pp.bars.store(rp.bars, std::memory_order_relaxed);
        pp.expected_bars.store(rp.expected_bars, std::memory_order_relaxed);
        pp.position.store(rp.position, std::memory_order_relaxed);
        pp.start.store(rp.start, std::memory_order_relaxed);
        pp.end.store(rp.end, std::memory_order_relaxed);
        if (rp.done) pp.done.store(true, std::memory_order_relaxed);
        pp.reported.store(true, std::memory_order_release);
      };
    }
    // One anchor for every part: the earliest bar of the whole universe, not of each
    // part's (each finds its own symbols' earliest, in parallel).
    if (!shared.from) {
      o.agree_anchor = [&](std::optional<int64_t> own) -> std::optional<int64_t> {
        reached_anchor = true;
        auto [anchor, left] = anchor_barrier.arrive(own);
        if (left) {
          p.stopped = true;  // a part failed before: its error is the one a single thread meets
          return std::nullopt;
        }
        return anchor;
      };
    }
    o.before_bar = [&](const CloseKey& k) {
      const EventKey key{k.close, static_cast<uint32_t>(k.source), p.global_of_local[k.symbol]};
      if (++since_publish >= kEventsPerPublish) {
        since_publish = 0;
        // Rows waiting for a batch belong to earlier events: they complete before
        // the watermark says nothing below `key` is to come.
        p.engine->flush_models();
        merge.publish(t, p.batch, key);
        // Past another part's failure nothing of this one is wanted any more.
        if (auto cap = merge.failed_at(); cap && *cap < key) {
          p.stopped = true;
          return false;
        }
      }
      p.key = key;
      p.engine->set_event_key(key);
      return true;
    };
    o.final_clock = [&](int64_t own) {
      merge.publish(t, p.batch, EventKey::final_clock(0));
      p.final_phase = true;
      reached_clock = true;
      const auto latest = clock_barrier.arrive(own == kNoClock ? std::nullopt : std::optional<int64_t>(own)).first;
      // After a failure one thread would never have reached its final clock.
      return merge.failed_at() || !latest ? kNoClock : *latest;
    };
    std::optional<Result<ReplayReport>> r;
    try {
      r = run_replay(*p.engine, plugins_, o);
    } catch (const std::exception& e) {
      r = make_error(std::string("replay thread: ") + e.what());
    }
    if (!*r && !p.stopped) failed_at[t] = p.key;
    results[t] = std::move(r);
    // The failure is known to the merge before any part passes the barrier.
    merge.finish(t, p.batch, failed_at[t]);
    if (!shared.from && !reached_anchor) anchor_barrier.leave();
    if (!reached_clock) clock_barrier.leave();
  };

  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t t = 0; t < n; ++t) threads.emplace_back(run_part, t);

  uint64_t shown_bars = 0;
  auto show_progress = [&](bool done) {
    if (!options.on_progress) return;
    ReplayProgress sum;
    sum.position = std::numeric_limits<int64_t>::max();
    bool known = true;
    for (size_t t = 0; t < n; ++t) {
      const PartProgress& pp = progress[t];
      if (!pp.reported.load(std::memory_order_acquire)) return;  // its share of the total is not known yet
      sum.bars += pp.bars.load(std::memory_order_relaxed);
      const uint64_t expected = pp.expected_bars.load(std::memory_order_relaxed);
      known = known && expected > 0;
      sum.expected_bars += expected;
      sum.start = pp.start.load(std::memory_order_relaxed);
      sum.end = std::max(sum.end, pp.end.load(std::memory_order_relaxed));
      // Everything before the slowest part's position is done.
      if (!pp.done.load(std::memory_order_relaxed))
        sum.position = std::min(sum.position, pp.position.load(std::memory_order_relaxed));
    }
    if (sum.position == std::numeric_limits<int64_t>::max()) sum.position = sum.end;
    if (!known) sum.expected_bars = sum.end = 0;
    if (!done && sum.bars < shown_bars + kEventsPerPublish * 4) return;
    shown_bars = sum.bars;
    sum.done = done;
    options.on_progress(sum);
  };
  merge.drain(deliver_, [&] { show_progress(false); });
  for (auto& th : threads) th.join();

  // The earliest failure is the one a single thread would have met.
  std::optional<size_t> first_failure;
  for (size_t t = 0; t < n; ++t) {
    if (*results[t] || parts_[t]->stopped) continue;
    if (!first_failure || *failed_at[t] < *failed_at[*first_failure]) first_failure = t;
  }
  if (first_failure) return results[*first_failure]->error();

  const SymbolTable universe(plan_universe(plan_));
  // Where one thread would have found a gap: at the bar after it.
  auto found_at = [&](const ReplayGap& g) {
    const auto id = universe.find(g.symbol);
    return std::make_pair(g.to + 2 * g.interval_ms, id ? *id : SymbolId{0});
  };
  ReplayReport report;
  for (size_t t = 0; t < n; ++t) {
    const ReplayReport& r = **results[t];
    report.anchor = r.anchor;
    report.history_start = r.history_start;
    report.end = r.end;
    report.history_bars += r.history_bars;
    report.streamed_bars += r.streamed_bars;
    report.gaps.count += r.gaps.count;
    report.gaps.missing_bars += r.gaps.missing_bars;
    if (const auto& g = r.gaps.largest) {
      const auto& best = report.gaps.largest;
      if (!best || g->missing_bars() > best->missing_bars() ||
          (g->missing_bars() == best->missing_bars() && found_at(*g) < found_at(*best)))
        report.gaps.largest = g;
    }
  }
  if (auto st = replay_coverage(report, plan_, shared); !st) return st.error();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  show_progress(true);
  return report;
}

EngineStats ThreadedReplay::stats() const {
  EngineStats sum;
  for (const auto& p : parts_) {
    const EngineStats& s = p->engine->stats();
    sum.source_bars += s.source_bars;
    sum.duplicates += s.duplicates;
    sum.revisions += s.revisions;
    sum.unknown_symbols += s.unknown_symbols;
    sum.flow_runs += s.flow_runs;
    sum.derived_bars += s.derived_bars;
    sum.max_chain_depth = std::max(sum.max_chain_depth, s.max_chain_depth);
    sum.timer_ticks += s.timer_ticks;
    sum.timer_no_row += s.timer_no_row;
    sum.signal_runs += s.signal_runs;
  }
  return sum;
}

uint64_t ThreadedReplay::predictions() const {
  uint64_t n = 0;
  for (const auto& p : parts_) n += p->engine->emitter().emitted();
  return n;
}

uint64_t ThreadedReplay::nan_skipped() const {
  uint64_t n = 0;
  for (const auto& p : parts_) n += p->engine->emitter().nan_skipped();
  return n;
}

}  // namespace af
