#pragma once
// BarAssembler: turns the kline updates of one stream (one market and interval, many
// symbols) into FINAL closed bars, per DESIGN §2 "Closed bars only". Pure logic, no
// I/O and no clock: the caller passes exchange time `now` and performs the REST
// fetches the assembler asks for. Owned by the live feed's assembly thread; not
// thread-safe.
//
// A bar becomes final when its x=true update arrives, when a later bar of the same
// stream arrives (its last update is then final, or, by default, confirmed over
// REST first: see BarAssemblerOptions::confirm_over_rest), or, failing both, from a
// REST answer requested at close + buffer. The first final version wins; an identical
// re-delivery is dropped, a different one is counted and logged as a revision and
// does not re-trigger. Missing bars (detected by ts arithmetic, by the deadline, or
// after a reconnect) become FetchRequests; a REST answer that skips a bar while a
// later bar exists makes it a real gap (logged, counted, the stream moves on).
// An update for a bar that has not opened yet at exchange time `now` (a
// future-dated bar, x=true or not) is held back: not applied, not final, no bar
// before it counted missing; the stream delivers that bar again when it opens, or
// REST after its close + buffer. No real gap is declared for a bar that has not
// closed by `now`.
// Output per symbol: in ts order, no gap except real gaps, no duplicate.
// Steady state allocates nothing per bar: pending bars live in map nodes from a
// pool the assembler owns (a node freed by one bar is reused by the next), the
// last emitted bars in a fixed ring.

#include <array>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <span>
#include <vector>

#include "common/bar.hpp"

namespace af::binance {

struct FinalBar {
  uint32_t symbol = 0;
  Bar bar;  // origin: kStream or kRest (whoever delivered the first final version)
};

enum class FetchReason : uint8_t { kGap, kDeadline, kReconnect, kConfirm };
const char* fetch_reason_name(FetchReason r);

// Bars of `symbol` with ts in [from, to) to fetch over REST and hand back with on_rest().
struct FetchRequest {
  uint32_t symbol = 0;
  int64_t from = 0;
  int64_t to = 0;
  FetchReason reason = FetchReason::kGap;
};

struct AssemblerOutput {
  std::vector<FinalBar> bars;
  std::vector<FetchRequest> requests;
  void clear() {
    bars.clear();
    requests.clear();
  }
};

struct BarAssemblerOptions {
  int64_t interval_ms = 60'000;
  int64_t buffer_ms = 60'000;        // grace after a bar's close before REST is asked
  // A bar whose fetch failed, or was answered without it, is asked again this long
  // after the answer. A fetch still waiting for its answer is never asked again:
  // under a long queue (a reconnect of hundreds of symbols, a fast replayed clock)
  // re-asking would add copies faster than they are served.
  int64_t retry_ms = 30'000;
  int64_t max_request_bars = 1000;   // one FetchRequest covers at most this many bars
  int64_t max_deadline_bars = 5000;  // bars one on_tick() may request per symbol (bounds work after a long outage)
  // When a later bar arrives and a bar has only x=false updates, its last update may
  // lack the final trades. true (default): confirm it over REST at once (an x=true
  // arriving first still wins; a REST answer without it keeps the stream's data).
  // false: DESIGN §2 literally, the last update is final.
  bool confirm_over_rest = true;
};

struct BarAssemblerStats {
  uint64_t emitted = 0;         // final bars output
  uint64_t emitted_rest = 0;    // ... of which came from REST
  uint64_t duplicates = 0;      // identical re-deliveries dropped
  uint64_t revisions = 0;       // different re-deliveries of a final bar (ignored)
  uint64_t late_updates = 0;    // updates for bars already emitted, too old to compare
  uint64_t gaps_detected = 0;   // missing bars found (each bar counted once)
  uint64_t real_gaps = 0;       // bars the exchange does not have
  uint64_t requests = 0;        // FetchRequests issued
  uint64_t future_bars = 0;     // updates for a bar not yet open at exchange time (held back, not applied)
};

class BarAssembler {
 public:
  BarAssembler(size_t symbol_count, BarAssemblerOptions options);
  BarAssembler(const BarAssembler&) = delete;
  BarAssembler& operator=(const BarAssembler&) = delete;

  // The first ts to emit for `symbol` (live: the anchor). Without it, the first
  // update of a symbol starts it at that update's bar.
  void start(uint32_t symbol, int64_t next_ts);

  // One parsed kline update (x = `closed`) of `symbol`; `now` is exchange time.
  void on_update(uint32_t symbol, const Bar& bar, bool closed, int64_t now, AssemblerOutput& out);

  // The answer to a FetchRequest: the closed bars the exchange returned for
  // [from, to) (origin as the caller set it, normally kRest).
  void on_rest(uint32_t symbol, int64_t from, int64_t to, std::span<const Bar> bars, int64_t now,
               AssemblerOutput& out);

  // The stream was reconnected: partial (x=false) data from before is discarded and
  // every bar since the last final one that has closed by `now` is requested, so the
  // stream's later bars wait behind the backfill.
  void on_reconnect(int64_t now, AssemblerOutput& out);

  // A FetchRequest the caller could not answer (the REST call failed): its bars
  // are asked again retry_ms after `now`. Every request handed out is answered
  // exactly once, by on_rest() or by this.
  void on_fetch_failed(uint32_t symbol, int64_t from, int64_t to, int64_t now);

  // Deadlines: a bar not final by close + buffer is requested over REST.
  void on_tick(int64_t now, AssemblerOutput& out);

  bool started(uint32_t symbol) const { return symbols_[symbol].started; }
  int64_t next_ts(uint32_t symbol) const { return symbols_[symbol].next_ts; }
  // Bars held back for `symbol` (waiting for an earlier one, or still open).
  size_t pending(uint32_t symbol) const { return symbols_[symbol].pending.size(); }
  const BarAssemblerStats& stats() const { return stats_; }
  int64_t interval_ms() const { return options_.interval_ms; }

 private:
  struct Slot {
    Bar bar;
    bool have = false;   // bar holds stream data of the current connection (or REST)
    bool final = false;
    bool gap = false;    // confirmed missing at the exchange
    bool counted = false;  // already counted in gaps_detected
    bool closed_seen = false;  // a later bar arrived on the connection that gave `have`
    bool in_flight = false;  // in a request not answered yet
    int64_t requested_at = -1;  // when the last request was answered (or made, while in flight)
  };
  static constexpr size_t kRecent = 32;
  struct SymbolState {
    explicit SymbolState(std::pmr::memory_resource* pool) : pending(pool) {}
    bool started = false;
    int64_t next_ts = 0;
    int64_t max_seen_ts = 0;               // newest bar ts any update carried
    std::pmr::map<int64_t, Slot> pending;  // ts >= next_ts
    // The last emitted bars (a ring: recent_count of them, the oldest
    // overwritten first), to tell duplicates from revisions.
    std::array<Bar, kRecent> recent;
    size_t recent_count = 0;
    size_t recent_next = 0;
  };

  void compare_final(uint32_t symbol, const Bar& stored, const Bar& incoming);
  void compare_emitted(uint32_t symbol, const Bar& incoming, bool closed);
  // Adds [ts] to the request being built for `symbol`, flushing contiguous runs.
  void want(uint32_t symbol, int64_t ts, Slot& slot, int64_t now, FetchReason reason, AssemblerOutput& out);
  void flush_request(AssemblerOutput& out);
  void drain(uint32_t symbol, AssemblerOutput& out);
  // The request for [from, to) of `symbol` was answered (or failed) at `now`.
  void mark_answered(SymbolState& s, int64_t from, int64_t to, int64_t now);

  std::pmr::unsynchronized_pool_resource pool_;  // before symbols_: their maps allocate from it
  std::vector<SymbolState> symbols_;
  BarAssemblerOptions options_;
  BarAssemblerStats stats_;
  // The request being built (contiguous run of one symbol).
  bool building_ = false;
  FetchRequest current_;
};

}  // namespace af::binance
