#include "service/status_board.hpp"

#include <algorithm>
#include <cassert>

namespace af::service {

StatusBoard::StatusBoard(size_t history) : history_(history) {
  assert(history_ > 0 && "StatusBoard: keep at least one prediction per symbol");
}

void StatusBoard::on_bar(size_t id, const std::string& name, int64_t ts, int64_t interval_ms, BarOrigin origin,
                         bool live, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (id >= entries_.size()) entries_.resize(id + 1);
  Entry& e = entries_[id];
  if (!e.used) {
    e.used = true;
    e.symbol.name = name;
    e.ring.resize(history_);
  }
  Symbol& s = e.symbol;
  // Several sources (1m and 1h) deliver bars of one symbol: the newest open time wins,
  // and the finest interval says how often a bar is due.
  if (ts >= s.last_bar_ts) {
    s.last_bar_ts = ts;
    s.last_bar_at_ms = now_ms;
  }
  s.interval_ms = s.interval_ms == 0 ? interval_ms : std::min(s.interval_ms, interval_ms);
  ++s.bars;
  if (live && origin == BarOrigin::kRest) ++s.live_bars_from_rest;
}

void StatusBoard::on_prediction(const std::string* symbol, int64_t ts, double value, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(symbol);
  if (it == by_name_.end()) {
    size_t id = 0;
    while (id < entries_.size() && !(entries_[id].used && entries_[id].symbol.name == *symbol)) ++id;
    if (id == entries_.size()) return;
    it = by_name_.emplace(symbol, id).first;
  }
  Entry& e = entries_[it->second];
  e.symbol.has_prediction = true;
  e.symbol.last_prediction = {ts, value};
  e.symbol.last_prediction_at_ms = now_ms;
  e.ring[e.next] = {ts, value};
  e.next = (e.next + 1) % e.ring.size();
  e.size = std::min(e.size + 1, e.ring.size());
}

std::vector<StatusBoard::Symbol> StatusBoard::symbols() const {
  std::vector<Symbol> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
      if (!e.used) continue;
      Symbol s = e.symbol;
      s.recent.reserve(e.size);
      const size_t first = (e.next + e.ring.size() - e.size) % e.ring.size();
      for (size_t i = 0; i < e.size; ++i) s.recent.push_back(e.ring[(first + i) % e.ring.size()]);
      out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const Symbol& a, const Symbol& b) { return a.name < b.name; });
  return out;
}

}  // namespace af::service
