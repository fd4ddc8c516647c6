#include "service/live_driver.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>

#include "common/bar.hpp"
#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/process_memory.hpp"
#include "common/terminal_progress.hpp"
#include "common/time.hpp"
#include "runtime/close_order.hpp"
#include "runtime/threaded_replay.hpp"
#include "runtime/warmup.hpp"
#include "service/live_driver_impl.hpp"
#include "service/live_feed_factory.hpp"

namespace af::service {
namespace {

// The memory observer: RSS every 100 events, but at most one line per 10 s, so a
// warmup that replays thousands of bars in milliseconds does not repeat it.
constexpr int64_t kRssLogEvery = 100;
constexpr int64_t kRssLogMinGapMs = 10'000;

// A stop request comes from a signal handler, which cannot notify a condition
// variable: every wait of the compute thread is bounded by this, so that the
// flag is seen in time.
constexpr int64_t kStopCheckMs = 50;

}  // namespace

void LiveDriver::Impl::on_prediction(const Engine& from, LatencyBase& base, const PredictionRecord& r) {
  // The sinks' queues, the counters, the status board and the histogram take
  // records from several workers at once; a symbol's records all come from one.
  sinks->emit(r);
  predictions.fetch_add(1, std::memory_order_relaxed);
  status.on_prediction(r.symbol, r.ts, r.prediction, r.emitted_at);
  bool live = base.live;
  int64_t final_at_us = base.final_at_us;
  if (from.flushing_models()) {
    // A batched model run: the record comes from the newest bar of its own symbol
    // (the engine names symbols by pointers into its symbol table).
    const auto& names = from.symbols().names();
    const auto id = r.symbol - names.data();
    if (id >= 0 && static_cast<size_t>(id) < names.size()) {
      live = base.symbol_live[static_cast<size_t>(id)] != 0;
      final_at_us = base.symbol_final_at_us[static_cast<size_t>(id)];
    }
  }
  if (live && final_at_us > 0) close_to_emit.record(static_cast<double>(feed_clock_us() - final_at_us) / 1e6);
  if (options.on_prediction) {
    std::lock_guard lock(on_prediction_mutex);
    options.on_prediction(r);
  }
}

int64_t LiveDriver::Impl::anchor_from_sinks(int64_t first_message_anchor) const {
  auto log = logger("service");
  std::optional<int64_t> oldest;
  for (const auto& sp : plan.sources) {
    for (const auto& sym : sp.universe) {
      const auto held = sinks->last_ts_held(plan.name, sym);
      if (held && (!oldest || *held < *oldest)) oldest = held;
    }
  }
  if (!oldest) return first_message_anchor;
  const int64_t step = std::max<int64_t>(1, plan.interval_ms);
  if (*oldest >= first_message_anchor - step) return first_message_anchor;  // nothing was missed
  int64_t from = *oldest + step;
  if (first_message_anchor - from > options.sink_catch_up_max_ms) {
    const int64_t aligned = warmup_start(first_message_anchor, options.sink_catch_up_max_ms,
                                         std::max<int64_t>(1, plan.coarsest_interval_ms));
    log->warn("no usable snapshot: the sinks hold predictions up to {}, more than {} h before {}; predicting from {} "
              "(bars in [{}, {}) are not predicted)",
              format_iso8601(*oldest), options.sink_catch_up_max_ms / 3'600'000, format_iso8601(first_message_anchor),
              format_iso8601(aligned), format_iso8601(from), format_iso8601(aligned));
    from = aligned;
  } else {
    log->info("no usable snapshot: the sinks hold predictions up to {}; predicting again from {}",
              format_iso8601(*oldest), format_iso8601(from));
  }
  return from;
}

LiveDriver::LiveDriver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LiveDriver::~LiveDriver() = default;

Result<std::unique_ptr<LiveDriver>> LiveDriver::create(const dag::Plan& plan, const PluginSet& plugins,
                                                       SignalEmitter& sinks, LiveOptions options) {
  auto impl = std::make_unique<Impl>();
  Impl* im = impl.get();
  im->plan = plan;
  im->sinks = &sinks;
  im->plugins = &plugins;
  im->options = std::move(options);
  if (im->options.snapshot_every_ms <= 0) return make_error("signal: --snapshot-every must be positive");
  if (im->options.snapshot_max_age_ms < 0) return make_error("signal: --snapshot-max-age must not be negative");
  if (im->options.sink_catch_up_max_ms < 0) return make_error("signal: the sink catch-up bound must not be negative");
  im->snapshot_max_age_ms = im->options.snapshot_max_age_ms > 0
                                ? im->options.snapshot_max_age_ms
                                : std::max<int64_t>(60'000, std::min<int64_t>(im->options.snapshot_every_ms,
                                                                               std::numeric_limits<int64_t>::max() / 6) *
                                                                6);
  im->universe = SymbolTable(plan_universe(im->plan));
  // --threads N: the symbols split by the sharding hash, as replay splits them;
  // one part runs on the compute thread itself.
  if (im->options.threads > 1 && !step_needing_all_symbols(im->plan))
    im->worker_symbols = split_universe(im->plan, im->options.threads, std::max<uint32_t>(1, im->options.shards));
  if (Status st = im->build_engines(); !st) return st.error();

  if (!im->options.state_dir.empty()) {
    auto store = StateStore::open(im->options.state_dir, im->plan);
    if (!store) return store.error();
    im->store = std::move(store).value();
    im->snapshot_writer = std::make_unique<SnapshotWriter>(*im->store);
  }
  std::string cache = im->options.cache_dir;
  if (cache.empty()) cache = default_vision_cache_dir(im->store ? im->store->vision_cache_dir() : std::string());
  const LiveFeedSettings settings = live_feed_settings(im->plan, im->options, cache);
  for (size_t i = 0; i < im->plan.sources.size(); ++i) {
    const auto& sp = im->plan.sources[i];
    auto feed = im->options.feed_factory ? im->options.feed_factory(im->plan, sp, settings)
                                         : make_live_feed(plugins.data, im->plan, sp, settings);
    if (!feed) return feed.error();
    Impl::Feed f;
    f.source = i;
    f.interval_ms = sp.interval_ms;
    for (const auto& sym : sp.universe) {
      const auto id = im->universe.find(sym);
      if (!id) return make_error("symbol " + sym + " is not in the engine's universe");
      f.symbol_ids.push_back(*id);
    }
    f.feed = std::move(feed).value();
    im->feeds.push_back(std::move(f));
  }
  if (im->feeds.empty()) return make_error(im->plan.file + ": the pipeline has no data step to stream");
  return std::unique_ptr<LiveDriver>(new LiveDriver(std::move(impl)));
}

std::string LiveDriver::metrics_text() const { return impl_->metrics_text(); }
HealthStatus LiveDriver::health() const { return impl_->health(); }
std::string LiveDriver::status_json() const { return impl_->status_json(); }

Result<std::optional<Snapshot>> LiveDriver::Impl::restore() {
  auto log = logger("service");
  if (!store) return std::optional<Snapshot>{};
  auto loaded = store->load();
  if (!loaded) {
    log->warn("snapshot unusable, warming up afresh: {}", loaded.error().message);
    return std::optional<Snapshot>{};
  }
  if (!*loaded) return std::optional<Snapshot>{};
  const Snapshot& found = **loaded;
  if (Status st = load_engines(found.engine_state); !st) {
    log->warn("snapshot {} unusable, warming up afresh: {}", store->snapshot_path(), st.error().message);
    // A half-loaded engine is not a fresh one: build them again.
    if (Status rebuilt = build_engines(); !rebuilt) return rebuilt.error();
    return std::optional<Snapshot>{};
  }
  log->info("snapshot restored path={} anchor={} written_at={}", store->snapshot_path(), format_iso8601(found.anchor),
            format_iso8601(found.written_at));
  return std::move(*loaded);
}

Result<std::optional<int64_t>> LiveDriver::Impl::await_anchor(const std::atomic<bool>& stop) {
  int64_t first = std::numeric_limits<int64_t>::max();
  for (auto& f : feeds) {
    for (;;) {
      if (stop.load()) return std::optional<int64_t>{};
      if (auto a = f.feed->wait_for_anchor(kStopCheckMs)) {
        first = std::min(first, *a);
        break;
      }
      if (auto e = f.feed->error()) return *e;
    }
  }
  return std::optional<int64_t>{first};
}

void LiveDriver::Impl::begin_history(int64_t anchor_ts, int64_t history_end, const std::optional<Snapshot>& snapshot) {
  const int64_t fresh_start = history_start_for(anchor_ts, plan.lookback_days, plan.coarsest_interval_ms);
  for (auto& f : feeds) {
    std::vector<int64_t> from(f.symbol_ids.size(), fresh_start);
    bool use_archive = true;
    if (snapshot) {
      // Catch-up from each symbol's last processed bar: short, so REST only, and
      // no archive file is fetched again.
      use_archive = false;
      for (size_t s = 0; s < from.size(); ++s) {
        const int64_t last = last_processed(f.source, f.symbol_ids[s]);
        if (last == std::numeric_limits<int64_t>::min()) {
          use_archive = true;  // a symbol the snapshot never saw: a fresh warmup for it
        } else {
          from[s] = last + f.interval_ms;
        }
      }
    }
    for (const int64_t start : from) {
      if (start < history_end)
        warmup_bars_expected += static_cast<uint64_t>((history_end - start + f.interval_ms - 1) / f.interval_ms);
    }
    f.feed->begin_history(std::move(from), use_archive);
  }
  logger("service")->info("signal {}: anchor={} ({}), history from {}", plan.name, format_iso8601(anchor_ts),
                          snapshot ? "restored" : "first kline message",
                          snapshot ? "each symbol's last processed bar" : format_iso8601(fresh_start));
}

void LiveDriver::Impl::process(size_t feed_index, const LiveFeedBar& b, Pump& pump) {
  const Feed& f = feeds[feed_index];
  if (b.history) {
    pump.tally[{f.source, f.symbol_ids[b.symbol]}].add(b.bar.ts);
    (b.bar.ts < pump.anchor ? history_bars : catch_up_bars).fetch_add(1, std::memory_order_relaxed);
  } else {
    live_bars.fetch_add(1, std::memory_order_relaxed);
  }
  // One line per received event, as the original logs; the level is checked
  // first so that the hot path never formats when debug is off.
  static const auto log = logger("service");
  if (log->should_log(spdlog::level::debug))
    log->debug("event source={} symbol={} ts={} history={} origin={}", plan.sources[f.source].event,
               plan.sources[f.source].universe[b.symbol], b.bar.ts, b.history ? 1 : 0, bar_origin_name(b.bar.origin));
  run_bar(f.source, f.symbol_ids[b.symbol], b);
  status.on_bar(f.symbol_ids[b.symbol], plan.sources[f.source].universe[b.symbol], b.bar.ts, f.interval_ms,
                b.bar.origin, !b.history, coarse_now_ms());
  const uint64_t n = events.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n % kRssLogEvery == 0 && (pump.last_rss_log == std::numeric_limits<int64_t>::min() ||
                                now_ms() - pump.last_rss_log >= kRssLogMinGapMs)) {
    pump.last_rss_log = now_ms();
    logger("service")->info("events={} rss_mb={:.1f} predictions={}", n,
                            static_cast<double>(current_rss_bytes()) / (1 << 20),
                            predictions.load(std::memory_order_relaxed));
  }
}

void LiveDriver::Impl::run_merged_history(Pump& pump) {
  // History of every feed in close-time order (as replay runs it), then what each
  // streamed meanwhile.
  CloseTimeMerger<std::pair<size_t, const LiveFeedBar*>> merger;
  for (size_t i = 0; i < pump.held.size(); ++i) {
    for (const auto& b : pump.held[i]) {
      if (b.history)
        merger.add(CloseKey{b.bar.ts + feeds[i].interval_ms, i, feeds[i].symbol_ids[b.symbol]}, {i, &b});
    }
  }
  merger.drain([&](const std::pair<size_t, const LiveFeedBar*>& item) { process(item.first, *item.second, pump); });
  for (size_t i = 0; i < pump.held.size(); ++i) {
    for (const auto& b : pump.held[i]) {
      if (!b.history) process(i, b, pump);
    }
    std::vector<LiveFeedBar>().swap(pump.held[i]);
  }
}

void LiveDriver::Impl::log_model_batching(const char* until) const {
  const EngineTotals es = engine_totals();
  if (es.model_batches == 0) return;
  logger("service")->info("model runs batched across symbols ({}): {} runs in {} batches, up to {} rows per flush",
                          until, es.batched_model_runs, es.model_batches, es.largest_model_flush);
}

void LiveDriver::Impl::on_warmup_done(Pump& pump) {
  auto log = logger("service");
  log_warmup_progress(pump, true);
  warmup_done = true;
  warmup_done_ms = now_ms();
  const double secs = static_cast<double>(warmup_done_ms.load() - warmup_started_ms.load()) / 1000.0;
  for (const auto& [key, t] : pump.tally) {
    log->info("warmup source={} symbol={} bars={} first={} last={}", plan.sources[key.first].event,
              universe.name(key.second), t.bars, format_iso8601(t.first), format_iso8601(t.last));
  }
  log->info("warmup done: {} bars{} in {:.1f} s; streaming", history_bars.load() + catch_up_bars.load(),
            pump.restored ? " (catch-up after a restart)" : "", secs);
  log_model_batching("warmup");
  log->info("Starting real-time signal generation (Ctrl+C to stop)");
  pump.tally.clear();
}

std::optional<Error> LiveDriver::Impl::poll_feeds(const std::atomic<bool>& stop, Pump& pump) {
  const bool merge_history = feeds.size() > 1;
  // With model runs waiting for a batch, no poll waits: the batch runs as soon as
  // a sweep finds every queue empty (below), never on a timer.
  const bool may_wait = !models_pending();
  size_t got = 0;
  for (size_t i = 0; i < feeds.size(); ++i) {
    auto& f = feeds[i];
    const bool complete_before = f.feed->history_done();
    pump.batch.clear();
    if (!f.feed->poll(pump.batch, may_wait && got == 0 && i + 1 == feeds.size() ? kStopCheckMs : 0)) {
      Error e = *f.feed->error();
      std::lock_guard lock(failure_mutex);
      failure = e.message;
      return e;
    }
    got += pump.batch.size();
    if (!warmup_done.load()) {
      uint64_t history = 0;
      for (const auto& b : pump.batch) history += b.history ? 1 : 0;
      warmup_bars_loaded.fetch_add(history, std::memory_order_relaxed);
    }
    if (merge_history && !warmup_done.load()) {
      pump.held[i].insert(pump.held[i].end(), pump.batch.begin(), pump.batch.end());
    } else {
      for (const auto& b : pump.batch) {
        if (stop.load()) break;  // finish the bar in flight, not the batch: the rest is fetched again
        process(i, b, pump);
      }
    }
    if (complete_before) pump.history_complete[i] = true;
  }
  // Every queue was empty: the bars that came so far are all in, so the model runs
  // they deferred (one per symbol of a close) run now, as one batch.
  if (got == 0) flush_models();
  if (!warmup_done.load() &&
      std::all_of(pump.history_complete.begin(), pump.history_complete.end(), [](bool c) { return c; })) {
    if (merge_history) run_merged_history(pump);
    on_warmup_done(pump);
  } else if (!warmup_done.load()) {
    log_warmup_progress(pump, false);
  }
  post_outbox();  // this poll's bars to their workers (--threads), one wake-up each
  return std::nullopt;
}

// The time up to which timer ticks of symbols whose next bar has not come may
// fire, on the exchange's clock (the slowest feed's); nullopt before the warmup
// is done or while a feed has no clock reading. A symbol's tick also fires before
// its first bar that closes after it (Engine), as in replay. By the clock, a tick
// at T fires only at T + max(buffer, 1 min) + 1 min: by then a bar of the symbol
// that closed by T and did not arrive has been asked for over REST (at its close
// + the buffer, at least a minute) and is in, so the tick sees the bars replay's
// would.
std::optional<int64_t> LiveDriver::Impl::timers_clock() const {
  if (plan.timers.empty() || !warmup_done.load()) return std::nullopt;
  std::optional<int64_t> now;
  for (const auto& f : feeds) {
    const auto t = f.feed->source_time_ms();
    if (!t) return std::nullopt;  // a feed without a clock reading yet: the bars move the timers
    now = now ? std::min(*now, *t) : *t;
  }
  const int64_t grace_ms = std::max<int64_t>(plan.buffer_minutes * kMinuteMs, kMinuteMs) + kMinuteMs;
  return *now - grace_ms;
}

void LiveDriver::Impl::log_warmup_progress(Pump& pump, bool final) {
  const int64_t now = steady_now_ms();
  if (!pump.warmup_progress.due(now) && !final) return;
  const ProgressSample sample{warmup_bars_loaded.load(), warmup_bars_expected.load(),
                              now - pump.warmup_started_steady};
  logger("service")->info("{}", format_warmup_progress(sample));
}

void LiveDriver::Impl::snapshot_if_due(Pump& pump) {
  if (!store || !warmup_done.load() || now_ms() - pump.last_snapshot < options.snapshot_every_ms ||
      !sinks->settled())
    return;
  if (models_pending()) {
    // A snapshot holds whole rows only: these complete now, and the snapshot
    // follows once their records are settled too.
    flush_models();
    return;
  }
  if (threaded()) {
    // The workers finish what was posted (this thread posts nothing meanwhile);
    // the records they emitted on the way must be settled too.
    wait_engines_idle();
    if (!sinks->settled()) return;
  }
  auto state = save_engines();
  if (!state) {
    logger("service")->error("snapshot not taken: {}", state.error().message);
    pump.last_snapshot = now_ms();
    return;
  }
  Snapshot s{pump.anchor, now_ms(), std::move(state).value()};
  snapshot_writer->submit(std::move(s));  // written and fsynced off this thread
  pump.last_snapshot = now_ms();
}

std::optional<Error> LiveDriver::Impl::pump(const std::atomic<bool>& stop, int64_t anchor_ts, bool restored_run) {
  Pump p;
  p.anchor = anchor_ts;
  p.restored = restored_run;
  p.history_complete.assign(feeds.size(), false);
  p.held.resize(feeds.size());
  p.last_snapshot = now_ms();
  p.warmup_started_steady = steady_now_ms();
  // The first progress line (0 of the expected bars) as the warmup starts, not
  // after the first poll, which may already hold a whole archive month.
  if (!warmup_done.load()) log_warmup_progress(p, false);
  while (!stop.load()) {
    // The feeds' clock is read before polling: every bar a feed released by then
    // is in this poll, and runs before a tick that clock makes due.
    const auto clock = timers_clock();
    if (auto failed = poll_feeds(stop, p)) return failed;
    if (clock) run_clock(*clock);
    if (const auto loop = engine_failure()) {
      std::lock_guard lock(failure_mutex);
      failure = loop->message;
      return *loop;
    }
    // Engine counters for the metrics thread.
    const EngineTotals totals = engine_totals();
    duplicates.store(totals.duplicates, std::memory_order_relaxed);
    revisions.store(totals.revisions, std::memory_order_relaxed);
    nan_skipped.store(totals.nan_skipped, std::memory_order_relaxed);
    // A snapshot at this bar boundary, if due and every record is settled.
    snapshot_if_due(p);
    // Every polled bar is processed (warmup done: none held; no stop: none left
    // in a batch): a settled moment acknowledges them to feeds that want it.
    if (warmup_done.load() && !stop.load() && !models_pending() && engines_idle() && sinks->settled()) {
      for (auto& f : feeds) f.feed->on_settled();
    }
  }
  logger("service")->info("stop requested: draining sinks");
  return std::nullopt;
}

Result<LiveReport> LiveDriver::Impl::finish(std::optional<Error> failed, LiveReport report,
                                            std::chrono::steady_clock::time_point started) {
  auto log = logger("service");
  // Bars processed but waiting for their model's batch complete before the sinks
  // close; the workers finish what was posted to them, then end.
  flush_models();
  for (auto& w : workers) w->stop();
  log_model_batching("run");
  for (auto& f : feeds) f.feed->stop();
  Status closed = sinks->close();
  if (!closed) log->error("sinks: {}", closed.error().message);
  bool final_submitted = false;
  if (store && warmup_done.load()) {
    auto state = sinks->settled() ? save_engines() : Result<std::string>(make_error(""));
    if (state) {
      Snapshot s{anchor.load(), now_ms(), std::move(state).value()};
      snapshot_writer->submit(std::move(s));
      final_submitted = true;
    } else if (!state.error().message.empty()) {
      report.final_snapshot_error = state.error().message;
    } else {
      // A snapshot now would count records no sink holds: the next start resumes
      // from the previous one and computes them again.
      report.final_snapshot_error = "not taken: some records are not settled in their sinks (see the sink errors)";
    }
  }
  if (snapshot_writer) snapshot_writer->close();  // the last one is on disk before we return
  if (final_submitted) {
    if (Status st = snapshot_writer->last_status(); !st) report.final_snapshot_error = st.error().message;
  }
  if (!report.final_snapshot_error.empty())
    log->error("final snapshot failed: {}; the next start resumes from the previous one", report.final_snapshot_error);
  report.anchor = anchor.load();
  report.history_bars = history_bars.load();
  report.catch_up_bars = catch_up_bars.load();
  report.live_bars = live_bars.load();
  report.predictions = predictions.load();
  report.snapshots = snapshot_writer ? snapshot_writer->written() : 0;
  report.snapshot_failures = snapshot_writer ? snapshot_writer->failed() : 0;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (failed) return *failed;
  if (!closed) return closed.error();
  return report;
}

Result<LiveReport> LiveDriver::run(const std::atomic<bool>& stop) {
  Impl& im = *impl_;
  const auto started = std::chrono::steady_clock::now();
  im.warmup_started_ms = now_ms();
  LiveReport report;

  // 1. The snapshot, if there is a usable one.
  auto snapshot = im.restore();
  if (!snapshot) return snapshot.error();
  report.restored = snapshot->has_value();
  im.restored = report.restored;

  // 2. The compute workers (--threads); streams first; then the anchor of every
  // feed. Every way out of run() from here on goes through finish(): workers,
  // feeds, then sinks, then the last snapshot.
  for (auto& w : im.workers) w->start();
  for (auto& f : im.feeds) {
    if (Status st = f.feed->start(); !st) return im.finish(st.error(), report, started);
  }
  auto first_message_anchor = im.await_anchor(stop);
  if (!first_message_anchor) return im.finish(first_message_anchor.error(), report, started);
  if (!*first_message_anchor) return im.finish(std::nullopt, report, started);
  const int64_t anchor = *snapshot ? (**snapshot).anchor : im.anchor_from_sinks(**first_message_anchor);
  if (!*snapshot && anchor != **first_message_anchor) report.sink_resume_from = anchor;
  im.set_anchor(anchor);  // the workers are idle: nothing was posted yet
  im.anchor = anchor;
  im.begin_history(anchor, std::max(anchor, **first_message_anchor), *snapshot);

  // 3. History, then live; 4. snapshots at settled bar boundaries; 5. finish.
  auto failed = im.pump(stop, anchor, snapshot->has_value());
  return im.finish(std::move(failed), report, started);
}

}  // namespace af::service
