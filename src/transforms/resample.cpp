#include "transforms/resample.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

#include "common/interval.hpp"
#include "common/time.hpp"

namespace af::transforms {

namespace {
constexpr int64_t kNoTs = std::numeric_limits<int64_t>::min();
}

Resample::Resample(int64_t input_interval_ms, int64_t target_interval_ms, size_t symbol_count)
    : input_ms_(input_interval_ms),
      target_ms_(target_interval_ms),
      ratio_(target_interval_ms / input_interval_ms),
      states_(symbol_count) {
  assert(input_ms_ > 0 && target_ms_ >= input_ms_ && target_ms_ % input_ms_ == 0);
  for (auto& s : states_) s.last_ts = kNoTs;
}

Resample::State& Resample::state(SymbolId symbol) {
  if (symbol >= states_.size()) {
    const size_t old = states_.size();
    states_.resize(symbol + 1);
    for (size_t i = old; i < states_.size(); ++i) states_[i].last_ts = kNoTs;
  }
  return states_[symbol];
}

void Resample::emit(SymbolId symbol, State& st, TransformOutput& out, bool complete) {
  st.acc.complete = complete;
  st.acc.origin = BarOrigin::kDerived;
  st.open = false;
  if (!complete) {
    uint64_t suppressed = 0;
    if (limiter_.allow(suppressed)) {
      logger("transforms")
          ->warn("resample: incomplete bucket symbol_id={} ts={} interval={} constituents={}/{} (suppressed={})",
                 symbol, format_iso8601(st.acc.ts), interval_name(target_ms_), st.count, ratio_, suppressed);
    }
  }
  out.emit(symbol, st.acc, {});
}

void Resample::on_bar(SymbolId symbol, const Bar& bar, TransformOutput& out) {
  State& st = state(symbol);
  if (st.last_ts != kNoTs && bar.ts <= st.last_ts) {
    // Frames deliver each symbol's rows once and in ts order; anything else is dropped.
    uint64_t suppressed = 0;
    if (limiter_.allow(suppressed)) {
      logger("transforms")->warn("resample: out-of-order bar dropped symbol_id={} ts={} last={} (suppressed={})",
                                 symbol, format_iso8601(bar.ts), format_iso8601(st.last_ts), suppressed);
    }
    return;
  }
  st.last_ts = bar.ts;
  const int64_t start = bucket_start(bar.ts, target_ms_);
  if (st.open && st.acc.ts != start) emit(symbol, st, out, false);  // a later bucket began
  if (!st.open) {
    st.open = true;
    st.count = 1;
    st.acc = bar;
    st.acc.ts = start;
  } else {
    Bar& a = st.acc;
    a.high = std::max(a.high, bar.high);
    a.low = std::min(a.low, bar.low);
    a.close = bar.close;
    a.volume += bar.volume;
    a.quote_volume += bar.quote_volume;
    a.trades += bar.trades;
    a.taker_buy_volume += bar.taker_buy_volume;
    a.taker_buy_quote_volume += bar.taker_buy_quote_volume;
    a.complete = a.complete && bar.complete;
    ++st.count;
  }
  if (bar.ts == start + target_ms_ - input_ms_) emit(symbol, st, out, st.acc.complete && st.count == ratio_);
}

void Resample::reset(SymbolId symbol) {
  // The open bucket is dropped, not emitted: the frames it would feed start afresh too.
  State& st = state(symbol);
  st = State{};
  st.last_ts = kNoTs;
}

namespace {

void put_state(StateWriter& w, bool open, int64_t count, int64_t last_ts, const Bar& acc) {
  w.put<uint8_t>(open ? 1 : 0);
  w.put<int64_t>(count);
  w.put<int64_t>(last_ts);
  w.put<Bar>(acc);
}

}  // namespace

void Resample::save(StateWriter& w) const {
  w.put<int64_t>(input_ms_);
  w.put<int64_t>(target_ms_);
  w.put<uint64_t>(states_.size());
  for (const auto& s : states_) put_state(w, s.open, s.count, s.last_ts, s.acc);
}

bool Resample::load(StateReader& r) {
  if (r.get<int64_t>() != input_ms_ || r.get<int64_t>() != target_ms_) return false;
  const auto n = r.get<uint64_t>();
  if (r.failed() || n > (1u << 24)) return false;
  std::vector<State> states(n);
  for (auto& s : states) s = read_state(r);
  if (r.failed()) return false;
  if (states.size() < states_.size()) {
    const size_t old = states.size();
    states.resize(states_.size());
    for (size_t i = old; i < states.size(); ++i) states[i].last_ts = kNoTs;
  }
  states_ = std::move(states);
  return true;
}

// One symbol's part: the intervals first, so that a section of another
// pipeline's resample is refused rather than misread.
void Resample::save_symbol(SymbolId symbol, StateWriter& w) const {
  w.put<int64_t>(input_ms_);
  w.put<int64_t>(target_ms_);
  if (symbol < states_.size()) {
    const State& s = states_[symbol];
    put_state(w, s.open, s.count, s.last_ts, s.acc);
  } else {
    put_state(w, false, 0, kNoTs, Bar{});  // the symbol never had a bar
  }
}

bool Resample::load_symbol(SymbolId symbol, StateReader& r) {
  if (r.get<int64_t>() != input_ms_ || r.get<int64_t>() != target_ms_) return false;
  const State loaded = read_state(r);
  if (r.failed()) return false;
  state(symbol) = loaded;
  return true;
}

Resample::State Resample::read_state(StateReader& r) {
  State s;
  s.open = r.get<uint8_t>() != 0;
  s.count = r.get<int64_t>();
  s.last_ts = r.get<int64_t>();
  s.acc = r.get<Bar>();
  return s;
}

}  // namespace af::transforms
