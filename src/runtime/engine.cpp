#include "runtime/engine.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "common/log.hpp"
#include "common/time.hpp"
#include "runtime/engine_state.hpp"
#include "runtime/engine_step_runtime.hpp"

namespace af {

// Receives a transform's completed rows and runs them, depth first, through the
// flow of the transform's output frame (event chaining).
class Engine::ChainOutput final : public TransformOutput {
 public:
  ChainOutput(Engine& engine, int frame, int depth) : engine_(engine), frame_(frame), depth_(depth) {}
  void emit(SymbolId symbol, const Bar& bar, std::span<const double> extra) override {
    ++engine_.stats_.derived_bars;
    engine_.append_and_run(frame_, symbol, bar, extra, depth_);
  }

 private:
  Engine& engine_;
  int frame_;
  int depth_;
};

namespace {

std::vector<std::string> universe_of(const dag::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan.sources)
    for (const auto& sym : s.universe)
      if (std::find(out.begin(), out.end(), sym) == out.end()) out.push_back(sym);
  return out;
}

}  // namespace

Engine::Engine(const dag::Plan& plan, SymbolTable symbols)
    : plan_(plan),
      symbols_(std::move(symbols)),
      router_(plan_),
      tracker_(plan_.sources.size(), symbols_.size()) {}

Engine::~Engine() = default;

Status Engine::build_step(const dag::Plan& p, const dag::StepPlan& sp, const PluginSet& plugins,
                          const SymbolTable& symbols, size_t feature_instances, StepRuntime& rt) {
  rt.plan = &sp;
  rt.kind = sp.kind;
  for (const auto& in : sp.inputs) rt.input_columns.push_back(in.column);
  rt.output_count = static_cast<int>(sp.output_columns.size());
  rt.first_output = sp.output_columns.empty() ? -1 : sp.output_columns.front();
  switch (sp.kind) {
    case registry::PluginKind::kFeature: {
      const auto* entry = plugins.features.find(sp.plugin);
      if (!entry) return make_error("no feature plugin '" + sp.plugin + "'");
      FeatureContext ctx{sp.params, rt.output_count};
      rt.feature_factory = entry->factory;
      for (size_t s = 0; s < feature_instances; ++s) {
        auto op = entry->factory(ctx);
        if (!op) return op.error();
        rt.features.push_back(std::move(op).value());
      }
      rt.started.assign(feature_instances, 0);
      break;
    }
    case registry::PluginKind::kModel: {
      const auto* entry = plugins.models.find(sp.plugin);
      if (!entry) return make_error("no model plugin '" + sp.plugin + "'");
      const auto& fp = p.frames[sp.frame];
      ModelContext ctx{sp.params, sp.model_ref, fp.columns, rt.first_output, symbols.names(), fp.capacity};
      auto m = entry->factory(ctx);
      if (!m) return m.error();
      rt.model = std::move(m).value();
      if (rt.model->window() > fp.capacity)
        return make_error("window " + std::to_string(rt.model->window()) + " is larger than the frame's capacity of " +
                          std::to_string(fp.capacity) + " rows");
      break;
    }
    case registry::PluginKind::kTransform: {
      const auto* entry = plugins.transforms.find(sp.plugin);
      if (!entry) return make_error("no transform plugin '" + sp.plugin + "'");
      TransformContext ctx{sp.params, p.frames[sp.frame].interval_ms, p.frames[sp.output_frame].interval_ms,
                           symbols.names()};
      auto t = entry->factory(ctx);
      if (!t) return t.error();
      rt.transform = std::move(t).value();
      break;
    }
    case registry::PluginKind::kData:
    case registry::PluginKind::kSink:
      break;
  }
  return {};
}

void Engine::check(const dag::Plan& plan, const PluginSet& plugins, Diagnostics& diags) {
  const SymbolTable symbols(universe_of(plan));
  for (const auto& sp : plan.steps) {
    StepRuntime rt;
    if (auto st = build_step(plan, sp, plugins, symbols, 1, rt); !st)
      diags.error(plan.file, sp.mark, sp.path, st.error().message);
  }
}

Result<std::unique_ptr<Engine>> Engine::create(const dag::Plan& plan, const PluginSet& plugins,
                                               PredictionEmitter::Deliver deliver) {
  std::unique_ptr<Engine> e(new Engine(plan, SymbolTable(universe_of(plan))));
  const dag::Plan& p = e->plan_;  // the engine's own copy: descriptors and params live there
  const size_t n_symbols = e->symbols_.size();

  for (const auto& f : p.frames) {
    e->frames_.push_back(std::make_unique<Frame>(f.name, f.interval_ms, f.columns,
                                                 static_cast<size_t>(std::max<int64_t>(f.capacity, 1)), n_symbols));
    e->frame_names_.push_back(f.name);
  }
  e->source_of_frame_.assign(p.frames.size(), -1);
  for (size_t i = 0; i < p.sources.size(); ++i) e->source_of_frame_[p.sources[i].frame] = static_cast<int>(i);

  e->dag_name_ = p.name;
  e->prediction_frame_name_ = p.prediction.frame >= 0 ? p.frames[p.prediction.frame].name : std::string();
  e->prediction_column_name_ = p.prediction_column;
  e->emitter_ = std::make_unique<PredictionEmitter>(&e->dag_name_, &e->prediction_frame_name_,
                                                    &e->prediction_column_name_, n_symbols, std::move(deliver));

  e->steps_.resize(p.steps.size());
  for (size_t i = 0; i < p.steps.size(); ++i) {
    if (auto st = build_step(p, p.steps[i], plugins, e->symbols_, n_symbols, e->steps_[i]); !st)
      return make_error(p.steps[i].label + ": " + st.error().message);
  }
  e->init_events();
  e->init_batching();
  return e;
}

int64_t Engine::last_processed(size_t source, SymbolId symbol) const {
  return tracker_.high_water_mark(source, symbol);
}

std::vector<uint8_t> Engine::frames_fed_by(size_t source) const {
  std::vector<uint8_t> fed(plan_.frames.size(), 0);
  fed[plan_.sources[source].frame] = 1;
  // Steps are in topological order, so one pass reaches every derived frame.
  for (const auto& sp : plan_.steps)
    if (sp.kind == registry::PluginKind::kTransform && fed[sp.frame]) fed[sp.output_frame] = 1;
  return fed;
}

Status Engine::reset_symbol(size_t source, SymbolId symbol) {
  if (source >= plan_.sources.size() || symbol >= symbols_.size())
    return make_error("reset of an unknown data step or symbol");
  flush_models();  // the symbol's rows so far complete as they were
  const std::vector<uint8_t> fed = frames_fed_by(source);
  for (size_t f = 0; f < frames_.size(); ++f)
    if (fed[f]) frames_[f]->series(symbol).clear();
  for (auto& rt : steps_) {
    if (!fed[rt.plan->frame]) continue;
    if (rt.kind == registry::PluginKind::kFeature) {
      auto op = rt.feature_factory(FeatureContext{rt.plan->params, rt.output_count});
      if (!op) return make_error(rt.plan->label + ": " + op.error().message);
      rt.features[symbol] = std::move(op).value();
      rt.started[symbol] = 0;
    } else if (rt.kind == registry::PluginKind::kTransform) {
      rt.transform->reset(symbol);
    }
  }
  return {};
}

bool Engine::on_source_bar(size_t source, SymbolId symbol, const Bar& bar) {
  if (failure_) return false;  // an event loop stopped the engine
  ++stats_.source_bars;
  if (symbol >= symbols_.size()) {
    ++stats_.unknown_symbols;
    return false;
  }
  const int frame = plan_.sources[source].frame;
  if (tracker_.is_processed(source, symbol, bar.ts)) {
    // A final bar is never reopened: the first final version wins.
    const SymbolSeries& series = frames_[frame]->series(symbol);
    bool identical = false;
    for (size_t back = 0; back < series.size(); ++back) {
      if (series.ts(back) == bar.ts) {
        const auto v = bar.values();
        identical = std::equal(v.begin(), v.end(), series.row(back));
        break;
      }
      if (series.ts(back) < bar.ts) break;
    }
    if (identical) {
      ++stats_.duplicates;
    } else {
      ++stats_.revisions;
      static RateLimiter limiter(10, 60'000);
      uint64_t suppressed = 0;
      if (limiter.allow(suppressed))
        logger("runtime")->warn("revised bar ignored symbol={} ts={} close={} suppressed={}", symbols_.name(symbol),
                                format_iso8601(bar.ts), bar.close, suppressed);
    }
    return false;
  }
  tracker_.mark_processed(source, symbol, bar.ts);
  // The symbol's timer ticks due before this bar closed fire first: they see
  // every bar of it closed by then.
  fire_timers(symbol, bar.ts + plan_.sources[source].interval_ms - 1);
  if (failure_) return false;
  streamed_ = bar.ts >= anchor_ts_;
  origin_ = bar.origin;
  append_and_run(frame, symbol, bar, {}, 0);
  return true;
}

void Engine::append_and_run(int frame, SymbolId symbol, const Bar& bar, std::span<const double> extra, int depth) {
  // A deferred row of this symbol completes before anything else happens to it.
  if (pending_of_[symbol]) {
    flush_models();
    if (failure_) return;
  }
  // A chain deeper than the guard is a pipeline bug (the compiler rejects loops).
  const int producer = plan_.frames[frame].producer_step;
  if (!enter_chain(depth, &plan_.frames[frame].event, producer >= 0 ? &plan_.steps[producer].label : nullptr, symbol))
    return;
  SymbolSeries& series = frames_[frame]->series(symbol);
  std::span<double> row = series.append(bar);
  for (size_t i = 0; i < extra.size(); ++i) row[kBarColumns.size() + i] = extra[i];

  const int flow = router_.route(frame);
  if (flow >= 0 && !run_flow(flow, frame, symbol, bar, depth, 0)) return;  // deferred: flush_models() completes it
  complete_row(frame, symbol, bar);
}

void Engine::complete_row(int frame, SymbolId symbol, const Bar& bar) {
  if (failure_) return;
  const SymbolSeries& series = frames_[frame]->series(symbol);
  if (row_observer_) row_observer_(frame, symbol, series);
  if (frame == plan_.prediction.frame && streamed_ && prediction_on_rows_) {
    before_record();
    if (failure_) return;
    emitter_->offer(&symbols_.name(symbol), symbol, bar.ts, series.value(plan_.prediction.column, 0), origin_);
  }
}

bool Engine::run_flow(int flow, int frame, SymbolId symbol, const Bar& bar, int depth, size_t first) {
  if (first == 0) ++stats_.flow_runs;
  SymbolSeries& series = frames_[frame]->series(symbol);
  double* row = series.mutable_row(0);
  const std::vector<int>& steps = plan_.flows[flow].steps;
  for (size_t pos = first; pos < steps.size(); ++pos) {
    const int step = steps[pos];
    StepRuntime& rt = steps_[step];
    switch (rt.kind) {
      case registry::PluginKind::kFeature: {
        std::array<double, 16> inputs;
        const size_t n_in = rt.input_columns.size();
        bool any_nan = false;
        for (size_t i = 0; i < n_in; ++i) {
          inputs[i] = row[rt.input_columns[i]];
          any_nan |= std::isnan(inputs[i]);
        }
        // Leading NaNs of an input (another feature warming up) are skipped, as
        // TA-Lib does: the feature starts at its input's first valid value.
        if (!rt.started[symbol]) {
          if (any_nan) break;
          rt.started[symbol] = 1;
        }
        rt.features[symbol]->update(std::span<const double>(inputs.data(), n_in),
                                    std::span<double>(row + rt.first_output, static_cast<size_t>(rt.output_count)));
        break;
      }
      case registry::PluginKind::kModel:
        if (rt.batchable && batching_ && !flushing_) {
          defer_row(flow, frame, pos, symbol, bar, depth);
          return false;
        }
        row[rt.first_output] = rt.model->predict(symbol, series);
        break;
      case registry::PluginKind::kTransform: {
        // Transforms read the bar itself: the row's bar columns are a copy of it.
        ChainOutput out(*this, rt.plan->output_frame, depth + 1);
        rt.transform->on_bar(symbol, bar, out);
        // A row the transform completed may wait for its model (batching): it
        // completes before this symbol's flow goes on, as it would have at once.
        if (pending_of_[symbol] && pos + 1 < steps.size()) flush_models();
        if (failure_) return true;
        break;
      }
      case registry::PluginKind::kData:
      case registry::PluginKind::kSink:
        break;
    }
  }
  // signal.generated after each model's finite prediction, once the whole flow has run.
  if (plan_.signal_subscribers.empty()) return true;
  for (int step : steps) {
    if (failure_) return true;
    if (signal_fired_by_[step] && !std::isnan(row[steps_[step].first_output]))
      fire_signal_generated(step, symbol, depth + 1);
  }
  return true;
}

double Engine::run_model(int step, SymbolId symbol, SymbolSeries& series) {
  StepRuntime& rt = steps_[step];
  const double prediction = rt.model->predict(symbol, series);
  series.mutable_row(0)[rt.first_output] = prediction;
  return prediction;
}

// The snapshot is keyed by symbol name (runtime/engine_state.hpp): each symbol's
// part stands alone, so the engines of `signal --threads N` each write theirs and
// the engines of a restart with another thread count each read theirs.
void Engine::save(StateWriter& w) const {
  // A deferred row is half processed: the driver flushes before it saves.
  assert(pending_.empty());
  EngineState state;
  state.pipeline = plan_.name;
  state.frames = frames_.size();
  StateWriter shared;
  for (const auto& rt : steps_)
    if (rt.transform && !rt.transform->per_symbol_state()) rt.transform->save(shared);
  state.shared = shared.take();
  for (size_t s = 0; s < symbols_.size(); ++s) {
    StateWriter part;
    save_symbol(static_cast<SymbolId>(s), part);
    state.symbols.emplace_back(symbols_.name(static_cast<SymbolId>(s)), part.take());
  }
  write_engine_state(state, w);
}

void Engine::save_symbol(SymbolId symbol, StateWriter& w) const {
  for (const auto& f : frames_) f->series(symbol).save(w);
  for (const auto& rt : steps_) {
    if (rt.kind == registry::PluginKind::kFeature) {
      rt.features[symbol]->save(w);
      w.put<uint8_t>(rt.started[symbol]);
    } else if (rt.transform && rt.transform->per_symbol_state()) {
      rt.transform->save_symbol(symbol, w);
    }
  }
  tracker_.save_symbol(symbol, w);
  emitter_->save_symbol(symbol, w);
  timers_.save_symbol(symbol, w);
}

bool Engine::load_symbol(SymbolId symbol, StateReader& r) {
  for (auto& f : frames_)
    if (!f->series(symbol).load(r)) return false;
  for (auto& rt : steps_) {
    if (rt.kind == registry::PluginKind::kFeature) {
      if (!rt.features[symbol]->load(r)) return false;
      rt.started[symbol] = r.get<uint8_t>();
    } else if (rt.transform && rt.transform->per_symbol_state()) {
      if (!rt.transform->load_symbol(symbol, r)) return false;
    }
  }
  return tracker_.load_symbol(symbol, r) && emitter_->load_symbol(symbol, r) && timers_.load_symbol(symbol, r) &&
         !r.failed();
}

Status Engine::load(StateReader& r) {
  auto state = read_engine_state(r);
  if (!state) return state.error();
  if (state->pipeline != plan_.name) return make_error("snapshot belongs to another pipeline");
  if (state->frames != frames_.size()) return make_error("snapshot shape differs from the pipeline (frames changed)");
  // State relating symbols (align) is whole: only an engine over every symbol of
  // the snapshot has it (such pipelines run on one thread).
  bool has_shared = false;
  for (const auto& rt : steps_) has_shared |= rt.transform && !rt.transform->per_symbol_state();
  if (has_shared) {
    if (state->symbols.size() != symbols_.size())
      return make_error("snapshot shape differs from the pipeline (symbols changed)");
    StateReader shared(state->shared);
    for (auto& rt : steps_) {
      if (rt.transform && !rt.transform->per_symbol_state() && !rt.transform->load(shared))
        return make_error("snapshot state of " + rt.plan->label + " is corrupt");
    }
  }
  // Sections of symbols this engine does not run belong to another thread's engine.
  std::vector<uint8_t> found(symbols_.size(), 0);
  for (const auto& [name, bytes] : state->symbols) {
    const auto id = symbols_.find(name);
    if (!id) continue;
    if (found[*id]) return make_error("snapshot holds symbol " + name + " twice");
    found[*id] = 1;
    StateReader part(bytes);
    if (!load_symbol(*id, part)) return make_error("snapshot state of symbol " + name + " is corrupt");
  }
  for (size_t s = 0; s < symbols_.size(); ++s) {
    if (!found[s])
      return make_error("snapshot has no state for symbol " + symbols_.name(static_cast<SymbolId>(s)) +
                        " (symbols changed)");
  }
  return {};
}

}  // namespace af
