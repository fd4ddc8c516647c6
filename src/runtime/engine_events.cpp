// The Engine's events beyond a frame's rows (DESIGN §2): `timer.<interval>`
// ticks, `signal.generated` after each model's prediction, and the chain guard
// that stops an event loop. Kept apart from engine.cpp's row path.

#include <algorithm>
#include <cmath>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "runtime/engine.hpp"

namespace af {

namespace {
constexpr int64_t kNoSlot = std::numeric_limits<int64_t>::min();
// The guard's message names this many events from the start of the chain and
// from its end (the loop shows in both).
constexpr int kChainHead = 4;
constexpr int kChainTail = 3;
}  // namespace

void Engine::init_events() {
  std::vector<int64_t> intervals;
  for (const auto& t : plan_.timers) intervals.push_back(t.interval_ms);
  timers_ = TimerSchedule(std::move(intervals), plan_.buffer_minutes * kMinuteMs, symbols_.size());
  signal_fired_by_.assign(plan_.steps.size(), 0);
  if (!plan_.signal_subscribers.empty()) {
    for (const auto& st : plan_.steps)
      if (st.kind == registry::PluginKind::kModel && !st.output_columns.empty()) signal_fired_by_[st.id] = 1;
  }
  // The emitted column comes with its frame's rows unless its model runs on
  // other events only (`on:` without the frame's event).
  prediction_on_rows_ = true;
  if (plan_.prediction_step >= 0 && !plan_.steps[plan_.prediction_step].on.empty()) {
    prediction_on_rows_ = false;
    for (const auto& flow : plan_.flows)
      for (int step : flow.steps)
        if (step == plan_.prediction_step) prediction_on_rows_ = true;
  }
}

void Engine::on_clock(int64_t now) {
  for (SymbolId s = 0; s < symbols_.size() && !failure_; ++s) fire_timers(s, now);
}

void Engine::fire_timers(SymbolId symbol, int64_t now) {
  if (timers_.empty()) return;
  while (!failure_) {
    const auto tick = timers_.next_due(symbol, now);
    if (!tick) return;
    fire_timer(*tick, symbol);
  }
}

// A tick runs the timer's steps for one symbol, each on the newest row of its
// frame. Its record is labelled with the prediction frame's bar that closed at
// the tick's boundary, whether or not that bar has arrived (or with the newer
// bar the model ran on, when buffer_minutes is longer than a bar).
void Engine::fire_timer(const TimerTick& tick, SymbolId symbol) {
  ++stats_.timer_ticks;
  const dag::TimerFlow& timer = plan_.timers[tick.timer];
  const int64_t frame_interval =
      plan_.prediction.frame >= 0 ? plan_.frames[plan_.prediction.frame].interval_ms : timer.interval_ms;
  if (!enter_chain(0, &timer.event, nullptr, symbol)) return;
  timer_slot_ = tick.boundary - frame_interval;
  for (int step : timer.steps) {
    if (failure_) break;
    if (!run_subscribed_model(step, symbol, 0)) ++stats_.timer_no_row;
  }
  timer_slot_ = kNoSlot;
}

bool Engine::run_subscribed_model(int step, SymbolId symbol, int depth) {
  // It reads the symbol's newest row: a deferred row of the symbol completes first.
  if (pending_of_[symbol]) {
    flush_models();
    if (failure_) return true;
  }
  SymbolSeries& series = frames_[plan_.steps[step].frame]->series(symbol);
  // No row yet for this symbol (it has not traded since the start): nothing to
  // predict from; counted, never invented.
  if (series.size() == 0) return false;
  const double prediction = run_model(step, symbol, series);
  if (step == plan_.prediction_step && !failure_) {
    if (timer_slot_ == kNoSlot) {
      if (streamed_) offer_prediction(symbol, series.ts(0));
    } else {
      const int64_t label = std::max(timer_slot_, series.ts(0));
      if (label >= anchor_ts_) offer_prediction(symbol, label);
    }
  }
  if (signal_fired_by_[step] && !std::isnan(prediction)) fire_signal_generated(step, symbol, depth + 1);
  return true;
}

void Engine::fire_signal_generated(int from_step, SymbolId symbol, int depth) {
  const auto& subs = plan_.signal_subscribers;
  if (subs.size() == 1 && subs.front() == from_step) return;  // only itself: the event runs no one
  if (!enter_chain(depth, &signal_event_name_, &plan_.steps[from_step].label, symbol)) return;
  for (int sub : plan_.signal_subscribers) {
    if (sub == from_step) continue;  // a model does not run again on its own prediction
    if (failure_) return;
    ++stats_.signal_runs;
    run_subscribed_model(sub, symbol, depth);
  }
}

void Engine::offer_prediction(SymbolId symbol, int64_t ts) {
  before_record();
  if (failure_) return;
  const SymbolSeries& series = frames_[plan_.prediction.frame]->series(symbol);
  emitter_->offer(&symbols_.name(symbol), symbol, ts, series.value(plan_.prediction.column, 0), origin_);
}

bool Engine::enter_chain(int depth, const std::string* event, const std::string* step, SymbolId symbol) {
  if (depth > static_cast<int>(stats_.max_chain_depth)) stats_.max_chain_depth = static_cast<uint64_t>(depth);
  if (depth < kMaxChainDepth) {
    chain_[static_cast<size_t>(depth)] = ChainLink{event, step};
    return true;
  }
  if (failure_) return false;
  auto link = [&](int i) {
    const ChainLink& l = chain_[static_cast<size_t>(i)];
    std::string text = l.event ? *l.event : std::string("?");
    if (l.step) text += " (from " + *l.step + ")";
    return text;
  };
  std::string chain;
  for (int i = 0; i < kChainHead; ++i) chain += link(i) + " -> ";
  chain += "...";
  for (int i = kMaxChainDepth - kChainTail; i < kMaxChainDepth; ++i) chain += " -> " + link(i);
  std::string next = *event;
  if (step) next += " (from " + *step + ")";
  failure_ = make_error("event chain deeper than " + std::to_string(kMaxChainDepth) + " events for " +
                        symbols_.name(symbol) + ", an event loop: " + chain + " -> " + next +
                        "; the engine stopped (the pipeline's steps fire the events that run them)");
  logger("runtime")->error("{}", failure_->message);
  return false;
}

}  // namespace af
