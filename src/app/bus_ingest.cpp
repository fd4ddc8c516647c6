#include "app/bus_ingest.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <thread>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "nats/bar_stream.hpp"
#include "nats/stream_admin.hpp"
#include "runtime/warmup.hpp"
#include "service/live_feed_factory.hpp"

namespace af::app {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMaxRetentionDays = 3650;
// Every wait is bounded by this, so that a stop request (a flag set by a signal
// handler) is seen in time.
constexpr int64_t kStopCheckMs = 50;
constexpr int64_t kRetryInitialMs = 100;
constexpr int64_t kRetryMaxMs = 5000;
// Bars in flight at once (one round of publish_batch): the publisher's window.
constexpr size_t kMaxRound = 1024;

std::shared_ptr<spdlog::logger> log() { return logger("ingest"); }

int64_t retention_days(const dag::Plan& plan, const BusIngestOptions& o) {
  return o.retention_days > 0 ? o.retention_days : std::max<int64_t>(1, plan.lookback_days);
}

// The source token of a data step: its plugin's name after "data.".
std::string source_name(const std::string& plugin) {
  return plugin.rfind("data.", 0) == 0 ? plugin.substr(5) : plugin;
}

struct Feed {
  std::unique_ptr<LiveFeed> feed;
  std::vector<nats::BarSeries> series;  // per symbol of the feed's universe
  int64_t interval_ms = 0;
};

// Sleeps up to ms in short steps; false when stop turned true.
bool sleep_unless_stopped(int64_t ms, const std::atomic<bool>& stop) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (stop.load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(kStopCheckMs, ms)));
  }
  return !stop.load();
}

// Connects, retrying with backoff while no server answers (each failure logged,
// naming the redacted bus); nullptr when stopped first.
Result<std::unique_ptr<nats::BusConnection>> connect_with_retry(const BusIngestOptions& o,
                                                                 const std::atomic<bool>& stop) {
  nats::ConnectPolicy policy;
  policy.request_timeout_ms = o.request_timeout_ms;
  policy.name = "alpha_forge ingest";
  int64_t wait = kRetryInitialMs;
  for (;;) {
    auto c = nats::BusConnection::connect(o.bus, policy);
    if (c) return c;
    if (!c.error().transient) return c.error();
    log()->warn("{}; retrying in {} ms", c.error().message, wait);
    if (!sleep_unless_stopped(wait, stop)) return std::unique_ptr<nats::BusConnection>();
    wait = std::min(wait * 2, kRetryMaxMs);
  }
}

Status ensure_bars_stream(nats::BusConnection& bus, const dag::Plan& plan, const BusIngestOptions& o) {
  nats::StreamSpec spec;
  spec.name = o.stream;
  spec.subjects = {std::string(nats::kBarSubjectRoot) + ".>"};
  for (const auto& s : plan.sources) {
    spec.required_subjects.push_back(nats::bar_subject_wildcard(source_name(s.plugin), interval_name(s.interval_ms)));
  }
  spec.max_age_ms = retention_days(plan, o) * kDayMs;
  spec.replicas = o.replicas;
  spec.duplicate_window_ms = o.duplicate_window_ms;
  auto d = nats::ensure_stream(bus, spec, true);
  if (!d) return d.error();
  if (d->max_age_ms != 0 && d->max_age_ms < spec.max_age_ms) {
    return make_error("ingest: NATS stream " + o.stream + " on " + bus.bus() + " keeps bars " +
                      std::to_string(d->max_age_ms / 3'600'000) + " h, less than the retention of " +
                      std::to_string(retention_days(plan, o)) + " days this pipeline needs (raise the stream's "
                      "max age, or use another --bus-stream)");
  }
  if (d->duplicate_window_ms < o.duplicate_window_ms) {
    log()->warn("stream {} de-duplicates over {} s, less than the {} s asked for: a standby ingest's bars published "
                "later than that would be stored twice",
                o.stream, d->duplicate_window_ms / 1000, o.duplicate_window_ms / 1000);
  }
  log()->info("bars stream {} on {}: {} (subjects {}, max age {} h, replicas {}, duplicate window {} s, {} messages)",
              o.stream, bus.bus(), d->created ? "created" : "found", d->subjects.empty() ? "" : d->subjects[0],
              d->max_age_ms / 3'600'000, d->replicas, d->duplicate_window_ms / 1000, d->messages);
  return {};
}

// Per symbol, where history starts: after the newest bar the stream holds, or at
// A - retention when it holds none (or only older ones). Also says whether any
// symbol needs the archive (a long span) rather than REST alone.
Result<std::vector<int64_t>> history_starts(nats::BusConnection& bus, const std::string& stream, const Feed& f,
                                            int64_t anchor, int64_t fresh_start, bool& use_archive,
                                            uint64_t& resumed) {
  nats::BarDecoder decoder;
  std::vector<int64_t> from;
  for (const auto& series : f.series) {
    auto last = nats::last_bar(bus, stream, series, decoder);
    if (!last) return last.error();
    int64_t start = fresh_start;
    if (last->has_value() && (*last)->bar.ts + f.interval_ms > fresh_start) {
      start = (*last)->bar.ts + f.interval_ms;
      ++resumed;
      log()->info("resume symbol={} after={} (the newest bar in the stream)", series.symbol,
                  format_iso8601((*last)->bar.ts));
    } else {
      use_archive = true;
    }
    from.push_back(std::min(start, anchor));
  }
  return from;
}

// A live bar's close as its feed saw it, on the wall clock (Unix us) for the
// message's header: the shards measure close-to-emit from it (0: a history bar).
int64_t final_at_wall_us(const LiveFeedBar& b) {
  if (b.history || b.final_at_us <= 0) return 0;
  const int64_t wall_now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  return wall_now_us - (feed_clock_us() - b.final_at_us);
}

// Publishes one bar and waits for its ack, retrying a transient failure with the
// same id (backoff up to kRetryMaxMs); `on_wait` runs before each wait (the
// metrics follow the outage). true: acked; false: stopped first.
Result<bool> publish_until_acked(nats::Publisher& publisher, const nats::BarMessage& m, int64_t final_at_us,
                                 const std::atomic<bool>& stop, uint64_t& retries,
                                 const std::function<void()>& on_wait) {
  int64_t wait = kRetryInitialMs;
  for (;;) {
    auto ack = nats::publish_bar(publisher, m, final_at_us);
    if (ack) return true;
    if (!ack.error().transient) return ack.error();
    ++retries;
    log()->warn("{}; retrying in {} ms", ack.error().message, wait);
    on_wait();
    if (!sleep_unless_stopped(wait, stop)) return false;
    wait = std::min(wait * 2, kRetryMaxMs);
  }
}

// Publishes one poll's bars in rounds of distinct symbols, each round pipelined
// (every bar sent, then every ack awaited: one round trip per round instead of
// one per bar, which bounded ingest to a few thousand bars/s). At most one bar of
// a symbol is ever in flight, so a failure can never leave a later bar of a
// symbol stored without an earlier one (the server drops a failed one while
// storing what follows on another connection after a reconnect): a failed bar is
// retried alone, waiting for its ack, before the next round. The bars are put in
// open-time order first (stable, so each symbol's stay in order): a burst of live
// closes or several symbols' history fill a round. Stopping ends after the round
// in flight; the next start resumes after the newest bar the stream holds.
Status publish_batch(nats::Publisher& publisher, const Feed& f, std::vector<LiveFeedBar>& batch,
                     const std::atomic<bool>& stop, BusIngestReport& report, const std::function<void()>& refresh) {
  std::stable_sort(batch.begin(), batch.end(),
                   [](const LiveFeedBar& a, const LiveFeedBar& b) { return a.bar.ts < b.bar.ts; });
  std::vector<char> in_round(f.series.size(), 0);
  std::vector<size_t> round;
  std::vector<size_t> failed;
  size_t next = 0;
  while (next < batch.size() && !stop.load()) {
    round.clear();
    while (next < batch.size() && round.size() < kMaxRound && !in_round[batch[next].symbol]) {
      in_round[batch[next].symbol] = 1;
      round.push_back(next++);
    }
    failed.clear();
    for (const size_t i : round) {
      const LiveFeedBar& b = batch[i];
      Status sent = nats::publish_bar_async(publisher, {f.series[b.symbol], b.bar}, final_at_wall_us(b));
      if (!sent && !sent.error().transient) return sent.error();
      if (!sent) failed.push_back(i);
    }
    auto acks = publisher.drain();
    if (!acks) return acks.error();
    for (const auto& fail : *acks) {
      if (!fail.error.transient) return fail.error;
      for (const size_t i : round) {
        if (nats::bar_msg_id(f.series[batch[i].symbol], batch[i].bar.ts) == fail.msg_id) failed.push_back(i);
      }
    }
    std::sort(failed.begin(), failed.end());
    failed.erase(std::unique(failed.begin(), failed.end()), failed.end());
    for (const size_t i : failed) {
      const LiveFeedBar& b = batch[i];
      log()->warn("bar {} not acked; publishing it again", nats::bar_msg_id(f.series[b.symbol], b.bar.ts));
      ++report.retries;
      auto acked = publish_until_acked(publisher, {f.series[b.symbol], b.bar}, final_at_wall_us(b), stop,
                                       report.retries, refresh);
      if (!acked) return acked.error();
      if (!*acked) return {};  // stopped: the rest of the round is stored or comes again after the restart
    }
    for (const size_t i : round) {
      in_round[batch[i].symbol] = 0;
      (batch[i].history ? report.history_bars : report.live_bars) += 1;
    }
    refresh();
  }
  return {};
}

}  // namespace

Status check_bus_ingest(const dag::Plan& plan, const BusIngestOptions& o) {
  if (o.retention_days < 0 || o.retention_days > kMaxRetentionDays) {
    return make_error("ingest: --bus-retention " + std::to_string(o.retention_days) + " is outside 1.." +
                      std::to_string(kMaxRetentionDays) + " days");
  }
  if (o.retention_days > 0 && o.retention_days < plan.lookback_days) {
    return make_error("ingest: --bus-retention " + std::to_string(o.retention_days) + " days does not cover the " +
                      "pipeline's lookback of " + std::to_string(plan.lookback_days) + " days (" + plan.file +
                      ": signal_generation.warmup.lookback_days): a shard could not warm up from the stream");
  }
  if (plan.sources.empty()) return make_error("ingest: " + plan.file + ": the pipeline has no data step to publish");
  for (const auto& s : plan.sources) {
    const std::string iv = interval_name(s.interval_ms);
    for (const auto& sym : s.universe) {
      const nats::BarSeries series{source_name(s.plugin), iv, sym};
      if (auto p = nats::bar_series_problem(series); !p.empty()) {
        return make_error("ingest: " + plan.steps[s.step].path + ": " + p + ", so it cannot be published on the bus");
      }
    }
  }
  return {};
}

Result<BusIngestReport> run_bus_ingest(const dag::Plan& plan, const PluginSet& plugins, const BusIngestOptions& o,
                                       const std::atomic<bool>& stop, IngestMetrics& metrics) {
  const auto started = std::chrono::steady_clock::now();
  BusIngestReport report;
  if (Status st = check_bus_ingest(plan, o); !st) return st.error();
  metrics.bus = o.bus.redacted();
  metrics.disconnected_since_ms = now_ms();  // not connected yet: /healthz counts from the start

  auto connected = connect_with_retry(o, stop);
  if (!connected) return connected.error();
  if (!*connected) return report;  // stopped before any server answered
  nats::BusConnection& bus = **connected;
  if (Status st = ensure_bars_stream(bus, plan, o); !st) return st.error();
  nats::Publisher publisher(bus, o.stream, static_cast<int>(kMaxRound));  // a round never waits for room
  // Copies what the connection and the publisher count into the metrics.
  const std::function<void()> refresh_metrics = [&] {
    const auto h = bus.health();
    metrics.connected = h.connected;
    if (h.connected) {
      metrics.disconnected_since_ms = 0;
    } else if (h.disconnected_since_ms > 0) {
      metrics.disconnected_since_ms = h.disconnected_since_ms;
    } else if (metrics.disconnected_since_ms.load() == 0) {
      metrics.disconnected_since_ms = now_ms();
    }
    metrics.reconnects = h.reconnects;
    const auto c = publisher.counters();
    metrics.published = c.published;
    metrics.stored = c.acked;
    metrics.duplicates = c.duplicates;
    metrics.failed = c.failed;
    metrics.retries = report.retries;
    metrics.history_bars = report.history_bars;
    metrics.live_bars = report.live_bars;
  };
  refresh_metrics();

  std::string cache = o.live.cache_dir;
  if (cache.empty()) cache = service::default_vision_cache_dir(o.live.state_dir.empty() ? "" : o.live.state_dir + "/vision-cache");
  const LiveFeedSettings settings = service::live_feed_settings(plan, o.live, cache);
  std::vector<Feed> feeds;
  for (const auto& sp : plan.sources) {
    auto feed = service::make_live_feed(plugins.data, plan, sp, settings);
    if (!feed) return feed.error();
    Feed f;
    f.feed = std::move(feed).value();
    f.interval_ms = sp.interval_ms;
    for (const auto& sym : sp.universe) f.series.push_back({source_name(sp.plugin), interval_name(sp.interval_ms), sym});
    feeds.push_back(std::move(f));
  }
  struct StopFeeds {
    std::vector<Feed>& feeds;
    ~StopFeeds() {
      for (auto& f : feeds) f.feed->stop();
    }
  } stop_feeds{feeds};
  for (auto& f : feeds) {
    if (Status st = f.feed->start(); !st) return st.error();
  }

  // The anchor: the first kline message, the earliest over the feeds.
  int64_t anchor = std::numeric_limits<int64_t>::max();
  for (auto& f : feeds) {
    for (;;) {
      if (stop.load()) return report;
      if (auto a = f.feed->wait_for_anchor(kStopCheckMs)) {
        anchor = std::min(anchor, *a);
        break;
      }
      if (auto e = f.feed->error()) return *e;
    }
  }
  report.anchor = anchor;
  metrics.anchor = anchor;
  const int64_t fresh_start = history_start_for(anchor, retention_days(plan, o), plan.coarsest_interval_ms);
  for (auto& f : feeds) {
    bool use_archive = false;
    auto from = history_starts(bus, o.stream, f, anchor, fresh_start, use_archive, report.resumed_symbols);
    if (!from) return from.error();
    f.feed->begin_history(std::move(*from), use_archive);
  }
  log()->info("ingest {}: anchor={} history from {} (or after the newest bar the stream holds) to stream {}",
              plan.name, format_iso8601(anchor), format_iso8601(fresh_start), o.stream);

  std::vector<LiveFeedBar> batch;
  bool history_logged = false;
  while (!stop.load()) {
    size_t got = 0;
    for (size_t i = 0; i < feeds.size() && !stop.load(); ++i) {
      Feed& f = feeds[i];
      batch.clear();
      if (!f.feed->poll(batch, got == 0 && i + 1 == feeds.size() ? kStopCheckMs : 0)) return *f.feed->error();
      got += batch.size();
      if (Status st = publish_batch(publisher, f, batch, stop, report, refresh_metrics); !st) return st.error();
    }
    refresh_metrics();
    if (!history_logged && std::all_of(feeds.begin(), feeds.end(), [](const Feed& f) { return f.feed->history_done(); })) {
      history_logged = true;
      log()->info("history published: {} bars; streaming", report.history_bars);
    }
  }
  const auto c = publisher.counters();
  report.published = c.published;
  report.stored = c.acked;
  report.duplicates = c.duplicates;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace af::app
