// What the live service's /status shows (and the status page at / renders): the
// pipeline, its phase and health, per symbol the newest bar and prediction, per feed
// and per sink their state, the snapshot's age. Runs on the metrics server's io
// thread: it reads atomics, the status board and the feeds' and sinks' thread-safe
// stats, never the engine itself. docs/operations.md, "Status page", lists the fields.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "common/time.hpp"
#include "service/build_info.hpp"
#include "service/live_driver_impl.hpp"

namespace af::service {
namespace {

using nlohmann::json;

json iso_or_null(int64_t ms) { return ms > 0 ? json(format_iso8601(ms)) : json(nullptr); }
json seconds_or_null(int64_t ms) { return ms >= 0 ? json(static_cast<double>(ms) / 1000.0) : json(nullptr); }

// A bar is due every interval, the REST fallback asks at close + buffer_minutes; past
// that and this slack, the symbol is late.
constexpr int64_t kLateSlackMs = 30'000;

}  // namespace

std::string LiveDriver::Impl::status_json() const {
  const int64_t now = now_ms();
  const HealthStatus h = health();
  std::string failed;
  {
    std::lock_guard lock(failure_mutex);
    failed = failure;
  }
  json out;
  out["pipeline"] = plan.name;
  out["version"] = std::string(build_version());
  out["commit"] = std::string(build_commit());
  out["now"] = format_iso8601(now);
  out["phase"] = !failed.empty() ? "failed" : warmup_done.load() ? "streaming" : "warming up";
  out["healthy"] = h.healthy;
  out["health"] = h.healthy ? "ok" : h.reason;
  out["anchor"] = iso_or_null(anchor.load());
  out["warmup_done_at"] = iso_or_null(warmup_done_ms.load());

  // Feeds first: a symbol whose feed is stale is stale too.
  json feeds_json = json::array();
  std::map<std::string, bool> symbol_feed_stale;
  for (const auto& f : feeds) {
    const auto s = f.feed->stats();
    const auto& source = plan.sources[f.source];
    const int64_t silent = s.last_data_ms > 0 ? std::max<int64_t>(0, now - s.last_data_ms) : -1;
    const bool stale = silent > f.feed->stale_after_ms();
    for (const auto& sym : source.universe) symbol_feed_stale[sym] = symbol_feed_stale[sym] || stale;
    feeds_json.push_back({{"source", source.event},
                          {"last_message", iso_or_null(s.last_data_ms)},
                          {"silent_seconds", seconds_or_null(silent)},
                          {"stale_after_seconds", static_cast<double>(f.feed->stale_after_ms()) / 1000.0},
                          {"stale", stale},
                          {"reconnects", s.reconnects},
                          {"gaps_repaired", s.missing_bars},
                          {"real_gaps", s.real_gaps}});
  }

  const int64_t buffer_ms = std::max<int64_t>(1, plan.buffer_minutes) * 60'000;
  json symbols_json = json::array();
  for (const auto& y : status.symbols()) {
    const int64_t lag = y.last_bar_at_ms > 0 ? std::max<int64_t>(0, now - y.last_bar_at_ms) : -1;
    const bool late = warmup_done.load() && lag > y.interval_ms + buffer_ms + kLateSlackMs;
    json recent = json::array();
    for (const auto& p : y.recent) recent.push_back({p.ts, p.value});
    symbols_json.push_back(
        {{"symbol", y.name},
         {"interval_seconds", static_cast<double>(y.interval_ms) / 1000.0},
         {"last_bar", iso_or_null(y.last_bar_ts)},
         {"lag_seconds", seconds_or_null(lag)},
         {"stale", late || (warmup_done.load() && symbol_feed_stale[y.name])},
         {"bars", y.bars},
         {"live_bars_from_rest", y.live_bars_from_rest},
         {"last_prediction", y.has_prediction ? json{{"ts", format_iso8601(y.last_prediction.ts)},
                                                     {"value", y.last_prediction.value}}
                                              : json(nullptr)},
         {"last_prediction_at", iso_or_null(y.last_prediction_at_ms)},
         {"recent", std::move(recent)}});
  }
  out["symbols"] = std::move(symbols_json);
  out["feeds"] = std::move(feeds_json);

  json sinks_json = json::array();
  for (const auto& s : sinks->stats()) {
    sinks_json.push_back({{"name", s.name},
                          {"sent", s.sent},
                          {"retried", s.retried},
                          {"spooled", s.spooled},
                          {"replayed", s.replayed},
                          {"failed", s.failed},
                          {"held_back", s.held_back},
                          {"queue_depth", s.queue_depth},
                          {"spool_pending", s.spool_pending},
                          {"spooling", s.spooling},
                          {"spool_full", s.spool_full},
                          {"dead", s.dead},
                          {"last_error", s.last_error}});
  }
  out["sinks"] = std::move(sinks_json);

  json snapshot = {{"enabled", snapshot_writer != nullptr}};
  if (snapshot_writer) {
    const int64_t written = snapshot_writer->last_written_ms();
    snapshot["last_written"] = iso_or_null(written);
    snapshot["age_seconds"] = written > 0 ? seconds_or_null(std::max<int64_t>(0, now - written)) : json(nullptr);
    snapshot["max_age_seconds"] = static_cast<double>(snapshot_max_age_ms) / 1000.0;
  }
  out["snapshot"] = std::move(snapshot);
  // A value that is not a number (an infinite prediction) is written as null; a
  // symbol or error text with bytes that are not UTF-8 is written with U+FFFD.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace af::service
