#include "service/live_driver.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <thread>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/process_memory.hpp"
#include "common/time.hpp"
#include "runtime/replay_driver.hpp"
#include "service/live_driver_impl.hpp"
#include "service/live_feed_factory.hpp"

namespace af::service {
namespace {

// The memory observer: RSS every 100 events, but at most one line per 10 s, so a
// warmup that replays thousands of bars in milliseconds does not repeat it.
constexpr int64_t kRssLogEvery = 100;
constexpr int64_t kRssLogMinGapMs = 10'000;

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/alpha_forge/vision";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/alpha_forge/vision";
  return ".alpha_forge_cache/vision";
}

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

}  // namespace

void LiveDriver::Impl::on_prediction(const PredictionRecord& r) {
  sinks->emit(r);
  predictions.fetch_add(1, std::memory_order_relaxed);
  status.on_prediction(r.symbol, r.ts, r.prediction, r.emitted_at);
  if (current_live && current_final_at_us > 0)
    close_to_emit.record(static_cast<double>(binance::feed_clock_us() - current_final_at_us) / 1e6);
  if (options.on_prediction) options.on_prediction(r);
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
    const int64_t align = std::max<int64_t>(1, plan.coarsest_interval_ms);
    const int64_t bounded = first_message_anchor - options.sink_catch_up_max_ms;
    const int64_t rem = ((bounded % align) + align) % align;
    const int64_t aligned = rem == 0 ? bounded : bounded - rem + align;
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
  auto engine = Engine::create(im->plan, plugins, [im](const PredictionRecord& r) { im->on_prediction(r); });
  if (!engine) return engine.error();
  im->engine = std::move(engine).value();

  if (!im->options.state_dir.empty()) {
    auto store = StateStore::open(im->options.state_dir, im->plan);
    if (!store) return store.error();
    im->store = std::move(store).value();
    im->snapshot_writer = std::make_unique<SnapshotWriter>(*im->store);
  }
  std::string cache = im->options.cache_dir;
  if (cache.empty()) cache = im->store ? im->store->vision_cache_dir() : default_cache_dir();

  service::LiveFeedSettings settings;
  settings.ws_url = im->options.ws_url;
  settings.rest_url = im->options.rest_url;
  settings.vision_url = im->options.vision_url;
  settings.base_url = im->options.base_url;
  settings.ca_file = im->options.ca_file;
  settings.cache_dir = cache;
  settings.lookback_ms = im->plan.lookback_days * kDayMs;
  settings.start_align_ms = im->plan.coarsest_interval_ms;
  // buffer_minutes: the grace after a close before REST (or the table) is asked for the bar.
  settings.buffer_ms = std::max<int64_t>(1, im->plan.buffer_minutes) * kMinuteMs;
  settings.anchor_timeout_ms = im->options.anchor_timeout_ms;
  settings.stale_after_ms = im->options.stale_after_ms;
  for (size_t i = 0; i < im->plan.sources.size(); ++i) {
    const auto& sp = im->plan.sources[i];
    auto feed = service::make_live_feed(im->plan, sp, settings);
    if (!feed) return feed.error();
    Impl::Feed f;
    f.source = i;
    f.interval_ms = sp.interval_ms;
    for (const auto& sym : sp.universe) {
      const auto id = im->engine->symbols().find(sym);
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

Result<LiveReport> LiveDriver::run(const std::atomic<bool>& stop) {
  Impl& im = *impl_;
  auto log = logger("service");
  const auto started = std::chrono::steady_clock::now();
  im.warmup_started_ms = now_ms();
  LiveReport report;

  // 1. The snapshot, if there is a usable one.
  std::optional<Snapshot> snapshot;
  if (im.store) {
    auto loaded = im.store->load();
    if (!loaded) {
      log->warn("snapshot unusable, warming up afresh: {}", loaded.error().message);
    } else if (*loaded) {
      const Snapshot& found = **loaded;
      StateReader reader(found.engine_state);
      if (Status st = im.engine->load(reader); !st) {
        log->warn("snapshot {} unusable, warming up afresh: {}", im.store->snapshot_path(), st.error().message);
        // A half-loaded engine is not a fresh one: build it again.
        auto fresh = Engine::create(im.plan, *im.plugins, [&im](const PredictionRecord& r) { im.on_prediction(r); });
        if (!fresh) return fresh.error();
        im.engine = std::move(fresh).value();
      } else {
        log->info("snapshot restored path={} anchor={} written_at={}", im.store->snapshot_path(),
                  format_iso8601(found.anchor), format_iso8601(found.written_at));
        snapshot = std::move(*loaded);
      }
    }
  }
  report.restored = snapshot.has_value();
  im.restored = report.restored;
  Engine& engine = *im.engine;

  // Every way out of run() from here on goes through finish(): feeds, then sinks, then the last snapshot.
  auto finish = [&](std::optional<Error> failure) -> Result<LiveReport> {
    for (auto& f : im.feeds) f.feed->stop();
    Status closed = im.sinks->close();
    if (!closed) log->error("sinks: {}", closed.error().message);
    bool final_submitted = false;
    if (im.store && im.warmup_done.load()) {
      if (im.sinks->settled()) {
        Snapshot s{engine.anchor(), now_ms(), {}};
        StateWriter w;
        engine.save(w);
        s.engine_state = w.take();
        im.snapshot_writer->submit(std::move(s));
        final_submitted = true;
      } else {
        // A snapshot now would count records no sink holds: the next start resumes
        // from the previous one and computes them again.
        report.final_snapshot_error = "not taken: some records are not settled in their sinks (see the sink errors)";
      }
    }
    if (im.snapshot_writer) im.snapshot_writer->close();  // the last one is on disk before we return
    if (final_submitted) {
      if (Status st = im.snapshot_writer->last_status(); !st) report.final_snapshot_error = st.error().message;
    }
    if (!report.final_snapshot_error.empty())
      log->error("final snapshot failed: {}; the next start resumes from the previous one",
                 report.final_snapshot_error);
    report.anchor = engine.anchor();
    report.history_bars = im.history_bars.load();
    report.catch_up_bars = im.catch_up_bars.load();
    report.live_bars = im.live_bars.load();
    report.predictions = im.predictions.load();
    report.snapshots = im.snapshot_writer ? im.snapshot_writer->written() : 0;
    report.snapshot_failures = im.snapshot_writer ? im.snapshot_writer->failed() : 0;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (failure) return *failure;
    if (!closed) return closed.error();
    return report;
  };

  // 2. Streams first; then the anchor of every feed.
  for (auto& f : im.feeds) {
    if (Status st = f.feed->start(); !st) return finish(st.error());
  }
  std::vector<int64_t> feed_anchor(im.feeds.size(), 0);
  for (size_t i = 0; i < im.feeds.size(); ++i) {
    for (;;) {
      if (stop.load()) return finish(std::nullopt);
      if (auto a = im.feeds[i].feed->anchor()) {
        feed_anchor[i] = *a;
        break;
      }
      if (auto e = im.feeds[i].feed->error()) return finish(*e);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const int64_t first_message_anchor = *std::min_element(feed_anchor.begin(), feed_anchor.end());
  const int64_t anchor = snapshot ? snapshot->anchor : im.anchor_from_sinks(first_message_anchor);
  if (!snapshot && anchor != first_message_anchor) report.sink_resume_from = anchor;
  engine.set_anchor(anchor);
  im.anchor = anchor;
  const int64_t fresh_start = history_start_for(anchor, im.plan.lookback_days, im.plan.coarsest_interval_ms);
  for (auto& f : im.feeds) {
    std::vector<int64_t> from(f.symbol_ids.size(), fresh_start);
    bool use_archive = true;
    if (snapshot) {
      // Catch-up from each symbol's last processed bar: short, so REST only, and
      // no archive file is fetched again.
      use_archive = false;
      for (size_t s = 0; s < from.size(); ++s) {
        const int64_t last = engine.last_processed(f.source, f.symbol_ids[s]);
        if (last == std::numeric_limits<int64_t>::min()) {
          use_archive = true;  // a symbol the snapshot never saw: a fresh warmup for it
        } else {
          from[s] = last + f.interval_ms;
        }
      }
    }
    f.feed->begin_history(std::move(from), use_archive);
  }
  log->info("signal {}: anchor={} ({}), history from {}", im.plan.name, format_iso8601(anchor),
            snapshot ? "restored" : "first kline message", snapshot ? "each symbol's last processed bar"
                                                                      : format_iso8601(fresh_start));

  // 3. History, then live. Several sources: their history is merged in close-time
  // order (as replay runs it) before anything live.
  const bool merge_history = im.feeds.size() > 1;
  std::vector<bool> history_complete(im.feeds.size(), false);
  std::vector<std::vector<binance::LiveFeedBar>> held(im.feeds.size());  // merge_history: until all complete
  std::map<std::pair<size_t, SymbolId>, WarmupTally> tally;
  std::vector<binance::LiveFeedBar> batch;
  int64_t last_snapshot = now_ms();
  int64_t last_rss_log = std::numeric_limits<int64_t>::min();

  auto process = [&](size_t feed_index, const binance::LiveFeedBar& b) {
    const Impl::Feed& f = im.feeds[feed_index];
    const bool before_anchor = b.bar.ts < anchor;
    im.current_live = !b.history;
    im.current_final_at_us = b.final_at_us;
    if (b.history) {
      tally[{f.source, f.symbol_ids[b.symbol]}].add(b.bar.ts);
      (before_anchor ? im.history_bars : im.catch_up_bars).fetch_add(1, std::memory_order_relaxed);
    } else {
      im.live_bars.fetch_add(1, std::memory_order_relaxed);
    }
    engine.on_source_bar(f.source, f.symbol_ids[b.symbol], b.bar);
    im.status.on_bar(f.symbol_ids[b.symbol], im.plan.sources[f.source].universe[b.symbol], b.bar.ts, f.interval_ms,
                     b.bar.origin, !b.history, coarse_now_ms());
    const uint64_t n = im.events.fetch_add(1, std::memory_order_relaxed) + 1;
    if (n % kRssLogEvery == 0 && (last_rss_log == std::numeric_limits<int64_t>::min() ||
                                  now_ms() - last_rss_log >= kRssLogMinGapMs)) {
      last_rss_log = now_ms();
      log->info("events={} rss_mb={:.1f} predictions={}", n, static_cast<double>(current_rss_bytes()) / (1 << 20),
                im.predictions.load(std::memory_order_relaxed));
    }
  };

  auto on_warmup_done = [&] {
    im.warmup_done = true;
    im.warmup_done_ms = now_ms();
    const double secs = static_cast<double>(im.warmup_done_ms.load() - im.warmup_started_ms.load()) / 1000.0;
    for (const auto& [key, t] : tally) {
      log->info("warmup source={} symbol={} bars={} first={} last={}", im.plan.sources[key.first].event,
                engine.symbols().name(key.second), t.bars, format_iso8601(t.first), format_iso8601(t.last));
    }
    log->info("warmup done: {} bars{} in {:.1f} s; streaming", im.history_bars.load() + im.catch_up_bars.load(),
              snapshot ? " (catch-up after a restart)" : "", secs);
    tally.clear();
  };

  while (!stop.load()) {
    size_t got = 0;
    for (size_t i = 0; i < im.feeds.size(); ++i) {
      auto& f = im.feeds[i];
      const bool complete_before = f.feed->history_done();
      batch.clear();
      if (!f.feed->poll(batch, got == 0 && i + 1 == im.feeds.size() ? 50 : 0)) {
        const Error e = *f.feed->error();
        {
          std::lock_guard lock(im.failure_mutex);
          im.failure = e.message;
        }
        return finish(e);
      }
      got += batch.size();
      if (merge_history && !im.warmup_done.load()) {
        held[i].insert(held[i].end(), batch.begin(), batch.end());
      } else {
        for (const auto& b : batch) {
          if (stop.load()) break;  // finish the bar in flight, not the batch: the rest is fetched again
          process(i, b);
        }
      }
      if (complete_before) history_complete[i] = true;
    }
    if (!im.warmup_done.load() &&
        std::all_of(history_complete.begin(), history_complete.end(), [](bool c) { return c; })) {
      if (merge_history) {
        // History of every feed in close-time order, then what each streamed meanwhile.
        struct Item {
          int64_t close;
          size_t feed;
          const binance::LiveFeedBar* bar;
        };
        std::vector<Item> items;
        for (size_t i = 0; i < held.size(); ++i) {
          for (const auto& b : held[i]) {
            if (b.history) items.push_back({b.bar.ts + im.feeds[i].interval_ms, i, &b});
          }
        }
        std::stable_sort(items.begin(), items.end(), [&](const Item& x, const Item& y) {
          if (x.close != y.close) return x.close < y.close;
          if (x.feed != y.feed) return x.feed < y.feed;
          return im.feeds[x.feed].symbol_ids[x.bar->symbol] < im.feeds[y.feed].symbol_ids[y.bar->symbol];
        });
        for (const auto& it : items) process(it.feed, *it.bar);
        for (size_t i = 0; i < held.size(); ++i) {
          for (const auto& b : held[i]) {
            if (!b.history) process(i, b);
          }
          held[i].clear();
          held[i].shrink_to_fit();
        }
      }
      on_warmup_done();
    }
    // Engine counters for the metrics thread.
    im.duplicates.store(engine.stats().duplicates, std::memory_order_relaxed);
    im.revisions.store(engine.stats().revisions, std::memory_order_relaxed);
    im.nan_skipped.store(engine.emitter().nan_skipped(), std::memory_order_relaxed);

    // 4. A snapshot at this bar boundary, if due and every record is settled.
    if (im.store && im.warmup_done.load() && now_ms() - last_snapshot >= im.options.snapshot_every_ms &&
        im.sinks->settled()) {
      Snapshot s{anchor, now_ms(), {}};
      StateWriter w;
      engine.save(w);
      s.engine_state = w.take();
      im.snapshot_writer->submit(std::move(s));  // written and fsynced off this thread
      last_snapshot = now_ms();
    }
  }
  log->info("stop requested: draining sinks");
  return finish(std::nullopt);
}

}  // namespace af::service
