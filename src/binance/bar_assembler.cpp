#include "binance/bar_assembler.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

namespace af::binance {
namespace {

RateLimiter& revision_limiter() {
  static RateLimiter limiter(10, 60'000);
  return limiter;
}
RateLimiter& gap_limiter() {
  static RateLimiter limiter(20, 60'000);
  return limiter;
}
RateLimiter& future_limiter() {
  static RateLimiter limiter(10, 60'000);
  return limiter;
}

}  // namespace

const char* fetch_reason_name(FetchReason r) {
  switch (r) {
    case FetchReason::kGap: return "gap";
    case FetchReason::kDeadline: return "deadline";
    case FetchReason::kReconnect: return "reconnect";
    case FetchReason::kConfirm: return "confirm";
  }
  return "?";
}

BarAssembler::BarAssembler(size_t symbol_count, BarAssemblerOptions options) : options_(options) {
  assert(options_.interval_ms > 0 && options_.max_request_bars > 0);
  symbols_.reserve(symbol_count);
  for (size_t i = 0; i < symbol_count; ++i) symbols_.emplace_back(&pool_);
}

void BarAssembler::start(uint32_t symbol, int64_t next_ts) {
  assert(symbol < symbols_.size());
  SymbolState& s = symbols_[symbol];
  assert(!s.started && "start() once per symbol, before its first update");
  s.started = true;
  s.next_ts = next_ts;
  s.max_seen_ts = next_ts - options_.interval_ms;
}

void BarAssembler::compare_final(uint32_t symbol, const Bar& stored, const Bar& incoming) {
  if (stored.same_values(incoming)) {
    ++stats_.duplicates;
    return;
  }
  ++stats_.revisions;
  uint64_t suppressed = 0;
  if (revision_limiter().allow(suppressed)) {
    logger("sources.market")
        ->warn("revised bar ignored symbol={} ts={} kept_close={} new_close={} kept_volume={} new_volume={} "
               "suppressed={}",
               symbol, format_iso8601(incoming.ts), stored.close, incoming.close, stored.volume, incoming.volume,
               suppressed);
  }
}

void BarAssembler::compare_emitted(uint32_t symbol, const Bar& incoming, bool closed) {
  const SymbolState& s = symbols_[symbol];
  for (size_t i = 0; i < s.recent_count; ++i) {
    const Bar& b = s.recent[i];
    if (b.ts == incoming.ts) {
      // An x=false update of a bar already final carries partial data: not a revision.
      if (closed) compare_final(symbol, b, incoming);
      else ++stats_.late_updates;
      return;
    }
  }
  ++stats_.late_updates;
}

void BarAssembler::flush_request(AssemblerOutput& out) {
  if (!building_) return;
  out.requests.push_back(current_);
  ++stats_.requests;
  building_ = false;
}

void BarAssembler::want(uint32_t symbol, int64_t ts, Slot& slot, int64_t now, FetchReason reason,
                        AssemblerOutput& out) {
  if (slot.final || slot.gap || slot.in_flight) return;
  if (slot.requested_at >= 0 && now - slot.requested_at < options_.retry_ms) return;
  slot.requested_at = now;
  slot.in_flight = true;
  const int64_t iv = options_.interval_ms;
  if (building_ && current_.symbol == symbol && current_.to == ts &&
      (current_.to - current_.from) / iv < options_.max_request_bars) {
    current_.to = ts + iv;
    return;
  }
  flush_request(out);
  building_ = true;
  current_ = FetchRequest{symbol, ts, ts + iv, reason};
}

void BarAssembler::on_update(uint32_t symbol, const Bar& bar, bool closed, int64_t now, AssemblerOutput& out) {
  assert(symbol < symbols_.size());
  SymbolState& s = symbols_[symbol];
  const int64_t iv = options_.interval_ms;
  if (bar.ts > now) {
    // Beyond the exchange's clock: not trusted, and not a reason to call every bar
    // up to it missing.
    ++stats_.future_bars;
    uint64_t suppressed = 0;
    if (future_limiter().allow(suppressed)) {
      logger("sources.market")
          ->warn("future-dated bar held back symbol={} ts={} closed={} exchange_now={} suppressed={}", symbol,
                 format_iso8601(bar.ts), closed, format_iso8601(now), suppressed);
    }
    return;
  }
  if (!s.started) start(symbol, bar.ts);
  if (bar.ts < s.next_ts) {
    compare_emitted(symbol, bar, closed);
    return;
  }
  Slot& slot = s.pending[bar.ts];
  if (slot.final) {
    if (closed) compare_final(symbol, slot.bar, bar);
    else ++stats_.late_updates;
  } else {
    slot.bar = bar;
    slot.bar.origin = BarOrigin::kStream;
    slot.have = true;
    slot.gap = false;
    if (closed) slot.final = true;
    if (!slot.final && bar.ts < s.max_seen_ts) {
      // Data for a bar the stream has already moved past: it is closed.
      if (!options_.confirm_over_rest) {
        slot.final = true;
      } else if (!slot.closed_seen) {
        slot.closed_seen = true;
        want(symbol, bar.ts, slot, now, FetchReason::kConfirm, out);
        flush_request(out);
      }
    }
  }
  if (bar.ts > s.max_seen_ts) {
    // A later bar of the stream arrived: every earlier bar with data of this
    // connection is final; earlier bars without data are missing. Only the bars
    // this update moved past are walked (those before were walked when the stream
    // passed them; their failed requests are asked again by on_tick), so a feed that
    // is behind pays O(1) per bar, not O(its lag).
    for (int64_t ts = std::max(s.next_ts, s.max_seen_ts); ts < bar.ts; ts += iv) {
      Slot& earlier = s.pending[ts];
      if (earlier.final || earlier.gap) continue;
      if (earlier.have) {
        if (!options_.confirm_over_rest) {
          earlier.final = true;
        } else {
          earlier.closed_seen = true;
          want(symbol, ts, earlier, now, FetchReason::kConfirm, out);
        }
        continue;
      }
      if (!earlier.counted) {
        earlier.counted = true;
        ++stats_.gaps_detected;
      }
      want(symbol, ts, earlier, now, FetchReason::kGap, out);
    }
    flush_request(out);
    s.max_seen_ts = bar.ts;
  }
  drain(symbol, out);
}

void BarAssembler::on_rest(uint32_t symbol, int64_t from, int64_t to, std::span<const Bar> bars, int64_t now,
                           AssemblerOutput& out) {
  assert(symbol < symbols_.size());
  SymbolState& s = symbols_[symbol];
  const int64_t iv = options_.interval_ms;
  if (!s.started) return;
  mark_answered(s, from, to, now);
  int64_t newest_returned = std::numeric_limits<int64_t>::min();
  for (const Bar& b : bars) {
    if (b.ts < from || b.ts >= to || bucket_start(b.ts, iv) != b.ts) continue;
    newest_returned = std::max(newest_returned, b.ts);
    if (b.ts < s.next_ts) {
      compare_emitted(symbol, b, true);
      continue;
    }
    Slot& slot = s.pending[b.ts];
    if (slot.final) {
      compare_final(symbol, slot.bar, b);
      continue;
    }
    slot.bar = b;
    slot.have = true;
    slot.final = true;
    slot.gap = false;
  }
  // A bar the answer skipped while a later bar exists (in this answer or final from
  // the stream) does not exist at the exchange: a real gap.
  int64_t newest_known = newest_returned;
  for (auto it = s.pending.rbegin(); it != s.pending.rend(); ++it) {
    if (it->second.final) {
      newest_known = std::max(newest_known, it->first);
      break;
    }
  }
  for (int64_t ts = std::max(from, s.next_ts); ts < to; ts += iv) {
    auto it = s.pending.find(ts);
    if (it != s.pending.end() && it->second.have && it->second.closed_seen && !it->second.final) {
      // The stream proved the bar exists and that it closed; REST lags: its last
      // update is final (DESIGN §2's later-bar rule).
      it->second.final = true;
      continue;
    }
    // Not after the newest bar known, nor a bar still open at the exchange.
    if (ts >= newest_known || ts + iv > now) continue;
    Slot& slot = it != s.pending.end() ? it->second : s.pending[ts];
    if (slot.final || slot.gap) continue;
    slot.gap = true;
    ++stats_.real_gaps;
    uint64_t suppressed = 0;
    if (gap_limiter().allow(suppressed)) {
      logger("sources.market")
          ->warn("real gap: exchange has no bar symbol={} ts={} interval_ms={} suppressed={}", symbol,
                 format_iso8601(ts), iv, suppressed);
    }
  }
  drain(symbol, out);
}

void BarAssembler::mark_answered(SymbolState& s, int64_t from, int64_t to, int64_t now) {
  // Only slots still pending can be in flight: the range is walked over the map,
  // not over [from, to) bar by bar, so a hostile or huge range costs nothing extra.
  for (auto it = s.pending.lower_bound(from); it != s.pending.end() && it->first < to; ++it) {
    if (!it->second.in_flight) continue;
    it->second.in_flight = false;
    it->second.requested_at = now;
  }
}

void BarAssembler::on_fetch_failed(uint32_t symbol, int64_t from, int64_t to, int64_t now) {
  assert(symbol < symbols_.size());
  mark_answered(symbols_[symbol], from, to, now);
}

void BarAssembler::on_reconnect(int64_t now, AssemblerOutput& out) {
  const int64_t iv = options_.interval_ms;
  const int64_t open_bar = bucket_start(now, iv);
  for (uint32_t sym = 0; sym < symbols_.size(); ++sym) {
    SymbolState& s = symbols_[sym];
    if (!s.started) continue;
    for (auto& [ts, slot] : s.pending) {
      if (!slot.final) slot.have = slot.closed_seen = false;  // partial data of the old connection
    }
    int64_t requested = 0;
    for (int64_t ts = s.next_ts; ts < open_bar && requested < options_.max_deadline_bars; ts += iv, ++requested) {
      Slot& slot = s.pending[ts];
      slot.requested_at = -1;  // ask again now, whatever was answered before; a request in flight stands
      want(sym, ts, slot, now, FetchReason::kReconnect, out);
    }
    flush_request(out);
    // Bars the stream will now deliver are compared against what is known again.
    s.max_seen_ts = std::max(s.next_ts, open_bar) - iv;
  }
}

void BarAssembler::on_tick(int64_t now, AssemblerOutput& out) {
  const int64_t iv = options_.interval_ms;
  for (uint32_t sym = 0; sym < symbols_.size(); ++sym) {
    SymbolState& s = symbols_[sym];
    if (!s.started) continue;
    int64_t n = 0;
    for (int64_t ts = s.next_ts; ts + iv + options_.buffer_ms <= now && n < options_.max_deadline_bars;
         ts += iv, ++n) {
      auto it = s.pending.find(ts);
      if (it != s.pending.end() && (it->second.final || it->second.gap)) continue;
      Slot& slot = it != s.pending.end() ? it->second : s.pending[ts];
      want(sym, ts, slot, now, FetchReason::kDeadline, out);
    }
    flush_request(out);
  }
}

void BarAssembler::drain(uint32_t symbol, AssemblerOutput& out) {
  SymbolState& s = symbols_[symbol];
  const int64_t iv = options_.interval_ms;
  for (auto it = s.pending.begin(); it != s.pending.end() && it->first == s.next_ts;) {
    Slot& slot = it->second;
    if (slot.final) {
      out.bars.push_back(FinalBar{symbol, slot.bar});
      ++stats_.emitted;
      if (slot.bar.origin == BarOrigin::kRest) ++stats_.emitted_rest;
      s.recent[s.recent_next] = slot.bar;
      s.recent_next = (s.recent_next + 1) % kRecent;
      s.recent_count = std::min(s.recent_count + 1, kRecent);
    } else if (!slot.gap) {
      break;
    }
    it = s.pending.erase(it);
    s.next_ts += iv;
  }
}

}  // namespace af::binance
