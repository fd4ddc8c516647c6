#pragma once
// ProcessedEventTracker: which (event, symbol, ts) have been processed, as a
// high-water mark per (event, symbol): events of one symbol arrive in ts order,
// so a ts at or below the mark has been seen. Bounded memory, unlike the seed's
// ever-growing set. Owned by the Engine; compute thread.

#include <cstdint>
#include <limits>
#include <vector>

#include "common/state_archive.hpp"
#include "frame/frame.hpp"

namespace af {

class ProcessedEventTracker {
 public:
  ProcessedEventTracker(size_t events, size_t symbols)
      : symbols_(symbols), marks_(events * symbols, std::numeric_limits<int64_t>::min()) {}

  bool is_processed(size_t event, SymbolId symbol, int64_t ts) const { return ts <= marks_[event * symbols_ + symbol]; }
  void mark_processed(size_t event, SymbolId symbol, int64_t ts) {
    auto& m = marks_[event * symbols_ + symbol];
    if (ts > m) m = ts;
  }
  int64_t high_water_mark(size_t event, SymbolId symbol) const { return marks_[event * symbols_ + symbol]; }

  // One symbol's marks, every event (snapshots keyed by symbol).
  void save_symbol(SymbolId symbol, StateWriter& w) const {
    for (size_t e = 0; e * symbols_ < marks_.size(); ++e) w.put<int64_t>(marks_[e * symbols_ + symbol]);
  }
  bool load_symbol(SymbolId symbol, StateReader& r) {
    for (size_t e = 0; e * symbols_ < marks_.size(); ++e) marks_[e * symbols_ + symbol] = r.get<int64_t>();
    return !r.failed();
  }

  void save(StateWriter& w) const { w.put_vector(marks_); }
  bool load(StateReader& r) {
    std::vector<int64_t> m;
    r.get_vector(m);
    if (r.failed() || m.size() != marks_.size()) return false;
    marks_ = std::move(m);
    return true;
  }

 private:
  size_t symbols_;
  std::vector<int64_t> marks_;
};

}  // namespace af
