#include "binance/stream_assembler.hpp"

namespace af::binance {

StreamAssembler::StreamAssembler(size_t symbols, BarAssemblerOptions options, int64_t anchor, FeedHandoff& handoff)
    : assembler_(symbols, options), handoff_(handoff) {
  for (uint32_t s = 0; s < symbols; ++s) assembler_.start(s, anchor);
}

void StreamAssembler::on_update(uint32_t symbol, const Bar& bar, bool closed, int64_t now) {
  assembler_.on_update(symbol, bar, closed, now, out_);
}

void StreamAssembler::on_reconnect(int64_t now) {
  handoff_.update_stats([](LiveFeedStats& s) { ++s.reconnects; });
  assembler_.on_reconnect(now, out_);
}

void StreamAssembler::tick(int64_t now) {
  if (now - last_tick_ < 1000) return;
  assembler_.on_tick(now, out_);
  last_tick_ = now;
}

void StreamAssembler::flush() {
  for (const FinalBar& f : out_.bars) staged_.push_back(LiveFeedBar{f.symbol, f.bar, false});
  handoff_.push(staged_);
  staged_.clear();
  fetches_.insert(fetches_.end(), out_.requests.begin(), out_.requests.end());
  out_.clear();
  const BarAssemblerStats& a = assembler_.stats();
  handoff_.update_stats([&a](LiveFeedStats& s) {
    s.live_bars_fetched = a.emitted_rest;
    s.duplicates = a.duplicates;
    s.revisions = a.revisions;
    s.missing_bars = a.gaps_detected;
    s.real_gaps = a.real_gaps;
    s.future_bars = a.future_bars;
  });
}

std::optional<FetchRequest> StreamAssembler::next_fetch() {
  if (fetches_.empty()) return std::nullopt;
  const FetchRequest r = fetches_.front();
  fetches_.pop_front();
  return r;
}

void StreamAssembler::on_rest(const FetchRequest& r, std::span<const Bar> bars, int64_t now) {
  assembler_.on_rest(r.symbol, r.from, r.to, bars, now, out_);
}

void StreamAssembler::on_fetch_failed(const FetchRequest& r, int64_t now) {
  assembler_.on_fetch_failed(r.symbol, r.from, r.to, now);
}

}  // namespace af::binance
