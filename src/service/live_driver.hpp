#pragma once
// LiveDriver: `alpha_forge signal`, the long-running service. It runs the same
// Engine as replay on the closed bars of live Binance feeds (sources/
// LiveMarketFeed, one per data step):
//
//   1. restore the snapshot of the state directory, if there is a usable one;
//   2. open every stream first; the anchor A is the open time of the first kline
//      message (the earliest over the feeds); fresh: history [A - lookback, A)
//      from the archive and REST; restored: A is the snapshot's, and each symbol
//      catches up over REST from its last processed bar (DESIGN §2);
//   3. run history, then live bars through the engine; predictions go to the sinks
//      (off this thread) and to an optional observer;
//      Without a usable snapshot, A moves back to just after the oldest of the
//      newest predictions the sinks hold (Sink::last_ts), so that the time the
//      service was down is predicted rather than left a hole;
//   4. snapshot the engine at bar boundaries, every snapshot_every_ms, at moments
//      when every emitted record is settled in its sink (flushed or spooled);
//      with several compute threads (LiveOptions::threads), each thread runs an
//      engine over its part of the symbols, this thread polls the feeds and hands
//      each bar to its symbol's thread, and a snapshot joins every engine's
//      state (keyed by symbol: it loads with any thread count);
//   5. on stop: finish the bar in flight, stop the feeds, drain and close the
//      sinks, write the last snapshot (only if every record settled).
//
// Owned by the signal command. run() is called on the thread that becomes the
// compute thread; metrics_text(), health() and status_json() may be called from
// any thread (the metrics server's).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "runtime/live_feed.hpp"
#include "runtime/plugin_set.hpp"
#include "runtime/record.hpp"
#include "delivery/signal_emitter.hpp"
#include "service/metrics_server.hpp"

namespace af::service {

struct LiveOptions {
  // Endpoints; "" = $ALPHA_FORGE_BINANCE_{WS,REST,VISION}_URL, else Binance's.
  std::string ws_url, rest_url, vision_url;
  std::string base_url;   // all three at once ("" = $ALPHA_FORGE_BINANCE_BASE_URL); an endpoint's own setting wins
  std::string ca_file;    // "" = $SSL_CERT_FILE, else the system CAs
  std::string state_dir;  // "" = no snapshots: every start warms up afresh
  std::string cache_dir;  // Vision cache; "" = <state_dir>/vision-cache, else ~/.cache/alpha_forge/vision
  // Compute threads (signal --threads): the universe split by the sharding hash
  // over this many engines, each on its own thread (1: one engine on the thread
  // that calls run()). A pipeline with a step that needs every symbol at once
  // (transforms.align) runs on one. `shards`: the --shard count (1 without), so
  // a shard's symbols spread over its threads as replay's do.
  uint32_t threads = 1;
  uint32_t shards = 1;
  int64_t snapshot_every_ms = 10'000;
  // /healthz turns unhealthy when the newest snapshot (or, before the first, the
  // end of warmup) is older than this; 0: max(6 x snapshot_every_ms, 60 s).
  int64_t snapshot_max_age_ms = 0;
  // Without a usable snapshot, how far back the sinks' newest predictions may move
  // the anchor (a longer outage keeps a hole, logged, rather than an unbounded fetch).
  int64_t sink_catch_up_max_ms = 7 * 24 * 3'600'000LL;
  int64_t anchor_timeout_ms = 120'000;
  int64_t stale_after_ms = 0;  // 0: the feed's default (20 x the stream cadence, at least 10 s)
  int metrics_port = -1;       // -1: no endpoint; 0: an ephemeral port
  std::string metrics_bind = "127.0.0.1";
  // Builds the feed of every data step instead of its plugin's own live feed
  // (`signal --bus`: the bars come from the bus; the plugin's factory is not
  // called). Empty: the plugin's.
  std::function<Result<std::unique_ptr<LiveFeed>>(const dag::Plan&, const dag::SourcePlan&, const LiveFeedSettings&)>
      feed_factory;
  // Extra Prometheus text appended to metrics_text() (the bus feeds' counters).
  std::function<std::string()> extra_metrics;
  // A reason the service is unhealthy beyond the driver's own ("" = none).
  std::function<std::string()> extra_health;
  // Called on the compute thread, after the sinks got the record (e.g. printing).
  std::function<void(const PredictionRecord&)> on_prediction;
  // Called once the metrics endpoint listens (its port), for tests and logs.
  std::function<void(uint16_t)> on_metrics_listening;
};

struct LiveReport {
  int64_t anchor = 0;
  bool restored = false;          // resumed from a snapshot
  uint64_t history_bars = 0;      // bars before A (fresh warmup)
  uint64_t catch_up_bars = 0;     // bars fetched for the time the service was down
  uint64_t live_bars = 0;         // bars from the stream (and its REST backfill)
  uint64_t predictions = 0;
  uint64_t snapshots = 0;
  uint64_t snapshot_failures = 0;
  // Why the final snapshot is not on disk ("" when it is, or when warmup never
  // finished and there was nothing to snapshot): the next start resumes from an
  // older one.
  std::string final_snapshot_error;
  int64_t sink_resume_from = 0;  // the anchor the sinks' newest predictions gave (0: none)
  double seconds = 0;
};

class LiveDriver {
 public:
  static Result<std::unique_ptr<LiveDriver>> create(const dag::Plan& plan, const PluginSet& plugins,
                                                    SignalEmitter& sinks, LiveOptions options);
  ~LiveDriver();
  LiveDriver(const LiveDriver&) = delete;
  LiveDriver& operator=(const LiveDriver&) = delete;

  // Runs until `stop` turns true (then drains and returns the report) or a feed
  // fails (the error; sinks are closed and the state saved all the same).
  Result<LiveReport> run(const std::atomic<bool>& stop);

  // Prometheus text of every metric; thread-safe.
  std::string metrics_text() const;
  HealthStatus health() const;
  // The /status JSON (docs/operations.md, "Status page"); thread-safe.
  std::string status_json() const;

  struct Impl;

 private:
  explicit LiveDriver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::service
