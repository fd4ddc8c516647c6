#pragma once
// ReplayDriver: runs a compiled pipeline over history (a Binance Vision mirror)
// with the same Engine the live service uses. It decides which bars are warmup and
// which are streamed exactly as DESIGN §2 says (runtime/warmup.hpp), loads them through each data
// step's DataSource, and feeds them in close order across series (close_order.hpp). Bars are loaded
// one calendar month per (source, symbol) series at a time, so memory does not
// grow with the replayed range (issue 8).
// Used from one thread (the caller's, which becomes the compute thread).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "runtime/close_order.hpp"
#include "runtime/engine.hpp"
#include "runtime/plugin_set.hpp"
#include "runtime/warmup.hpp"

namespace af {

// What replay does where a series misses bars (the mirror has no file for a
// month, or the exchange had an outage). kBridge carries every feature's state
// across the hole, as the live service does for a real gap, so replay and live
// agree; kReset starts the symbol afresh on that data step after the hole
// (Engine::reset_symbol): no prediction for it until its features have warmed up
// again, then the predictions of a replay whose data began after the hole;
// kFail stops at the first gap.
enum class GapPolicy { kBridge, kReset, kFail };

// Where a replay is: bars fed of the bars expected (one per interval over each
// series' range, up to where its data ends as far as the source can tell
// cheaply; 0 when unknown), and the newest bar's time within the range.
struct ReplayProgress {
  uint64_t bars = 0;
  uint64_t expected_bars = 0;
  int64_t position = 0;  // ts of the newest bar fed
  int64_t start = 0;     // history start
  int64_t end = 0;       // the range's end as estimated (0: unknown)
  bool done = false;
};

struct ReplayOptions {
  std::string data_dir;          // root of the mirror (holds data/futures/um/...)
  bool bar_cache = true;         // sources may keep decoded archives beside them (replay --no-cache: false)
  std::optional<int64_t> from;   // anchor A, inclusive; default earliest bar + lookback_days
  std::optional<int64_t> to;     // exclusive; default: end of the data
  GapPolicy gap_policy = GapPolicy::kBridge;
  // Called on the replay's thread every few thousand bars and once at the end
  // (`done`), for a progress display; it must be quick.
  std::function<void(const ReplayProgress&)> on_progress;
  // Called once the data is open, before the first bar is fed (replay opens its
  // sinks in parallel with reading the data and waits for them here); an error
  // stops the replay with it. Split over threads, every thread calls it: it must
  // be safe to call from several threads and give each the same answer.
  std::function<Status()> before_stream;

  // A replay split over threads (runtime/threaded_replay.hpp) runs one driver per
  // thread over part of the universe; these hooks let it put every thread's
  // records back into the order one thread produces. Empty otherwise.
  // Without `from`: given this run's anchor (its earliest bar plus lookback_days;
  // nullopt: no bars), the anchor of the whole universe (nullopt: none has bars).
  std::function<std::optional<int64_t>(std::optional<int64_t>)> agree_anchor;
  // Called before each bar is fed (before its gap check) with its place in the
  // close order; false stops the replay (an error "replay stopped").
  std::function<bool(const CloseKey&)> before_bar;
  // Given this run's last close (INT64_MIN: it fed no bar), the clock the final
  // on_clock runs at (INT64_MIN: none): one thread stops every symbol's timers at
  // the newest close of the whole universe, so each thread must too.
  std::function<int64_t(int64_t)> final_clock;
  // This run feeds only part of the universe: an empty warmup or range is the
  // caller's to judge over every part (replay_coverage), not this run's.
  bool part_of_universe = false;
};


// Missing bars inside one series: bars `from` .. `to` (open times, inclusive) are absent.
struct ReplayGap {
  std::string symbol;
  int64_t interval_ms = 0;
  int64_t from = 0;
  int64_t to = 0;
  int64_t missing_bars() const { return (to - from) / interval_ms + 1; }
};

// "BTCUSDT misses 2208 bars 2025-03-01T00:00:00Z .. 2025-05-31T23:00:00Z (92 days)"
std::string describe_gap(const ReplayGap& gap);

// Every gap in the replayed series, with the largest kept whole.
struct GapSummary {
  uint64_t count = 0;
  uint64_t missing_bars = 0;
  std::optional<ReplayGap> largest;
};

struct ReplayReport {
  int64_t anchor = 0;         // A
  int64_t history_start = 0;  // first ts loaded (A - lookback, moved up to the coarsest boundary)
  int64_t end = 0;            // exclusive end actually used
  uint64_t history_bars = 0;  // source bars with ts < A
  uint64_t streamed_bars = 0; // source bars with ts >= A
  GapSummary gaps;
  double seconds = 0;
};

// Errors: no bars in the lookback before the anchor (when lookback_days > 0), no
// bars in [anchor, end), and with GapPolicy::kFail the first gap. Each gap is
// logged as a warning (rate-limited) and counted in the report.
Result<ReplayReport> run_replay(Engine& engine, const PluginSet& plugins, const ReplayOptions& options);

// run_replay's checks of the whole run: bars in the warmup (when lookback_days >
// 0) and in the streamed range.
Status replay_coverage(const ReplayReport& report, const dag::Plan& plan, const ReplayOptions& options);

}  // namespace af
