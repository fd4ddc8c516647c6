#include "transforms/align.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>

#include "common/time.hpp"

namespace af::transforms {

namespace {
constexpr int64_t kMinTs = std::numeric_limits<int64_t>::min() / 2;
constexpr std::array<double, 1> kReal{0.0};
constexpr std::array<double, 1> kFilled{1.0};
}  // namespace

Align::Align(int64_t interval_ms, size_t symbol_count)
    : interval_ms_(interval_ms), states_(symbol_count), filled_through_(kMinTs) {
  assert(interval_ms_ > 0);
}

void Align::fill(SymbolId symbol, State& st, int64_t through, TransformOutput& out) {
  Bar f;
  f.open = f.high = f.low = f.close = st.last_close;
  f.origin = BarOrigin::kDerived;
  for (int64_t ts = st.last_ts + interval_ms_; ts <= through; ts += interval_ms_) {
    f.ts = ts;
    out.emit(symbol, f, kFilled);
    st.last_ts = ts;
  }
}

void Align::on_bar(SymbolId symbol, const Bar& bar, TransformOutput& out) {
  if (symbol >= states_.size()) states_.resize(symbol + 1);
  const int64_t through = bar.ts - interval_ms_;
  if (through > filled_through_) {
    for (SymbolId x = 0; x < states_.size(); ++x) {
      State& sx = states_[x];
      if (sx.seen && sx.last_ts < through) fill(x, sx, through, out);
    }
    filled_through_ = through;
  }
  State& st = states_[symbol];
  if (st.seen && bar.ts <= st.last_ts) {
    uint64_t suppressed = 0;
    if (limiter_.allow(suppressed)) {
      logger("transforms")
          ->warn("align: late bar dropped symbol_id={} ts={}: its row was already emitted (suppressed={})", symbol,
                 format_iso8601(bar.ts), suppressed);
    }
    return;
  }
  if (!st.seen) {
    st.seen = true;
    filled_through_ = std::min(filled_through_, bar.ts);
  }
  st.last_ts = bar.ts;
  st.last_close = bar.close;
  out.emit(symbol, bar, kReal);
}

void Align::reset(SymbolId symbol) {
  // Unseen again: no filled rows until its next real bar, which starts its grid anew.
  // filled_through_ stays a lower bound for the symbols still seen.
  if (symbol < states_.size()) states_[symbol] = State{};
}

void Align::save(StateWriter& w) const {
  w.put<int64_t>(interval_ms_);
  w.put<int64_t>(filled_through_);
  w.put<uint64_t>(states_.size());
  for (const auto& s : states_) {
    w.put<uint8_t>(s.seen ? 1 : 0);
    w.put<int64_t>(s.last_ts);
    w.put<double>(s.last_close);
  }
}

bool Align::load(StateReader& r) {
  if (r.get<int64_t>() != interval_ms_) return false;
  const int64_t through = r.get<int64_t>();
  const auto n = r.get<uint64_t>();
  if (r.failed() || n > (1u << 24)) return false;
  std::vector<State> states(n);
  for (auto& s : states) {
    s.seen = r.get<uint8_t>() != 0;
    s.last_ts = r.get<int64_t>();
    s.last_close = r.get<double>();
  }
  if (r.failed()) return false;
  if (states.size() < states_.size()) states.resize(states_.size());
  states_ = std::move(states);
  filled_through_ = through;
  return true;
}

}  // namespace af::transforms
