#pragma once
// PredictionEmitter: turns the prediction column of a newly completed row into a
// PredictionRecord, at most once per (dag, symbol, ts): a high-water mark per
// symbol (records of a symbol come in ts order). NaN predictions (not warmed up,
// or a NaN input) are counted, never emitted. Owned by the Engine; compute thread.

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "common/state_archive.hpp"
#include "common/time.hpp"
#include "frame/frame.hpp"
#include "runtime/record.hpp"

namespace af {

class PredictionEmitter {
 public:
  using Deliver = std::function<void(const PredictionRecord&)>;

  PredictionEmitter(const std::string* dag_name, const std::string* frame, const std::string* column,
                    size_t symbols, Deliver deliver)
      : dag_name_(dag_name), frame_(frame), column_(column),
        emitted_until_(symbols, std::numeric_limits<int64_t>::min()), deliver_(std::move(deliver)) {}

  // Emits the prediction for `symbol` at `ts` unless it is NaN or already emitted.
  void offer(const std::string* symbol, SymbolId id, int64_t ts, double prediction, BarOrigin origin) {
    if (std::isnan(prediction)) {
      ++nan_skipped_;
      return;
    }
    if (ts <= emitted_until_[id]) {
      ++already_emitted_;
      return;
    }
    emitted_until_[id] = ts;
    PredictionRecord r;
    r.ts = ts;
    r.symbol = symbol;
    r.prediction = prediction;
    r.dag_name = dag_name_;
    r.frame = frame_;
    r.column = column_;
    r.emitted_at = coarse_now_ms();  // metadata: a coarse read keeps it off the hot path's profile
    r.origin = origin;
    ++emitted_;
    if (deliver_) deliver_(r);
  }

  uint64_t emitted() const { return emitted_; }
  uint64_t nan_skipped() const { return nan_skipped_; }
  uint64_t already_emitted() const { return already_emitted_; }
  int64_t emitted_until(SymbolId id) const { return emitted_until_[id]; }

  void save_symbol(SymbolId id, StateWriter& w) const { w.put<int64_t>(emitted_until_[id]); }
  bool load_symbol(SymbolId id, StateReader& r) {
    emitted_until_[id] = r.get<int64_t>();
    return !r.failed();
  }

  void save(StateWriter& w) const { w.put_vector(emitted_until_); }
  bool load(StateReader& r) {
    std::vector<int64_t> m;
    r.get_vector(m);
    if (r.failed() || m.size() != emitted_until_.size()) return false;
    emitted_until_ = std::move(m);
    return true;
  }

 private:
  const std::string* dag_name_;
  const std::string* frame_;
  const std::string* column_;
  std::vector<int64_t> emitted_until_;
  Deliver deliver_;
  uint64_t emitted_ = 0;
  uint64_t nan_skipped_ = 0;
  uint64_t already_emitted_ = 0;
};

}  // namespace af
