// LiveDriver::Impl's engines: one on the compute thread (--threads 1), or one per
// ComputeWorker over its part of the universe (--threads N). Everything the run
// loop asks of "the engine" goes through here, so the loop reads the same in both.

#include <algorithm>

#include "runtime/engine_state.hpp"
#include "runtime/threaded_replay.hpp"
#include "service/live_driver_impl.hpp"

namespace af::service {

Status LiveDriver::Impl::build_engines() {
  if (worker_symbols.size() <= 1) {
    auto e = Engine::create(plan, *plugins, [this](const PredictionRecord& r) { on_prediction(*engine, engine_latency, r); });
    if (!e) return e.error();
    engine = std::move(e).value();
    engine->set_model_batching(model_batching_wanted());
    engine_latency = LatencyBase(engine->symbols().size());
    return {};
  }
  const bool fresh = workers.empty();
  for (size_t i = 0; i < worker_symbols.size(); ++i) {
    auto e = Engine::create(plan_for_symbols(plan, worker_symbols[i]), *plugins, [this, i](const PredictionRecord& r) {
      ComputeWorker& w = *workers[i];
      on_prediction(w.engine(), w.latency_base(), r);
    });
    if (!e) return e.error();
    (*e)->set_model_batching(model_batching_wanted());
    if (fresh) {
      workers.push_back(std::make_unique<ComputeWorker>(i, std::move(e).value()));
    } else {
      workers[i]->replace_engine(std::move(e).value());
    }
  }
  if (fresh) {
    worker_of.assign(universe.size(), 0);
    local_id.assign(universe.size(), 0);
    for (size_t i = 0; i < workers.size(); ++i) {
      for (const auto& name : worker_symbols[i]) {
        const auto id = universe.find(name);
        const auto local = workers[i]->engine().symbols().find(name);
        if (!id || !local) return make_error("symbol " + name + " is not in the pipeline's universe");
        worker_of[*id] = static_cast<uint32_t>(i);
        local_id[*id] = *local;
      }
    }
    outbox.resize(workers.size());
  }
  return {};
}

void LiveDriver::Impl::run_bar(size_t source, SymbolId id, const LiveFeedBar& b) {
  if (!threaded()) {
    engine_latency.on_bar(id, !b.history, b.final_at_us);
    engine->on_source_bar(source, id, b.bar);
    return;
  }
  ComputeWorker::Item item;
  item.source = source;
  item.symbol = local_id[id];
  item.bar = b.bar;
  item.live = !b.history;
  item.final_at_us = b.final_at_us;
  outbox[worker_of[id]].push_back(item);
}

void LiveDriver::Impl::post_outbox() {
  for (size_t i = 0; i < workers.size(); ++i) workers[i]->post(outbox[i]);
}

void LiveDriver::Impl::run_clock(int64_t now) {
  if (!threaded()) {
    engine->on_clock(now);
    return;
  }
  for (size_t i = 0; i < workers.size(); ++i) {
    ComputeWorker::Item item;
    item.clock = true;
    item.now = now;
    outbox[i].push_back(item);
  }
  post_outbox();
}

void LiveDriver::Impl::wait_engines_idle() {
  for (auto& w : workers) w->wait_idle();
}

bool LiveDriver::Impl::engines_idle() const {
  return std::all_of(workers.begin(), workers.end(), [](const auto& w) { return w->idle(); });
}

// Workers complete their deferred model runs themselves whenever their queue runs
// dry; only the engine on this thread needs telling.
bool LiveDriver::Impl::models_pending() const { return !threaded() && engine->models_pending(); }

void LiveDriver::Impl::flush_models() {
  if (!threaded()) engine->flush_models();
}

std::optional<Error> LiveDriver::Impl::engine_failure() const {
  if (!threaded()) return engine->failure();
  for (const auto& w : workers)
    if (auto f = w->failure()) return f;
  return std::nullopt;
}

int64_t LiveDriver::Impl::last_processed(size_t source, SymbolId id) {
  if (!threaded()) return engine->last_processed(source, id);
  wait_engines_idle();  // also orders this read after the worker's last writes
  return workers[worker_of[id]]->engine().last_processed(source, local_id[id]);
}

void LiveDriver::Impl::set_anchor(int64_t anchor_ts) {
  if (!threaded()) engine->set_anchor(anchor_ts);
  wait_engines_idle();
  for (auto& w : workers) w->engine().set_anchor(anchor_ts);
}

Status LiveDriver::Impl::load_engines(const std::string& state) {
  if (!threaded()) {
    StateReader r(state);
    return engine->load(r);
  }
  wait_engines_idle();
  for (auto& w : workers) {
    StateReader r(state);  // each engine reads its own symbols' parts of the whole
    if (Status st = w->engine().load(r); !st) return st;
  }
  return {};
}

Result<std::string> LiveDriver::Impl::save_engines() {
  StateWriter w;
  if (!threaded()) {
    engine->save(w);
    return w.take();
  }
  wait_engines_idle();
  std::vector<std::string> parts;
  for (auto& worker : workers) {
    StateWriter part;
    worker->engine().save(part);
    parts.push_back(part.take());
  }
  return join_engine_states(parts);
}

LiveDriver::Impl::EngineTotals LiveDriver::Impl::engine_totals() const {
  EngineTotals t;
  if (!threaded()) {
    const EngineStats& s = engine->stats();
    return {s.duplicates, s.revisions, engine->emitter().nan_skipped(), s.batched_model_runs, s.model_batches,
            s.largest_model_flush};
  }
  for (const auto& w : workers) {
    const auto& c = w->counters();
    t.duplicates += c.duplicates.load(std::memory_order_relaxed);
    t.revisions += c.revisions.load(std::memory_order_relaxed);
    t.nan_skipped += c.nan_skipped.load(std::memory_order_relaxed);
    t.batched_model_runs += c.batched_model_runs.load(std::memory_order_relaxed);
    t.model_batches += c.model_batches.load(std::memory_order_relaxed);
    t.largest_model_flush = std::max(t.largest_model_flush, c.largest_model_flush.load(std::memory_order_relaxed));
  }
  return t;
}

}  // namespace af::service
