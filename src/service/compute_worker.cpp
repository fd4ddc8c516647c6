#include "service/compute_worker.hpp"

#include <pthread.h>

#include <string>

namespace af::service {

ComputeWorker::ComputeWorker(size_t index, std::unique_ptr<Engine> engine)
    : index_(index), engine_(std::move(engine)), base_(engine_->symbols().size()) {}

ComputeWorker::~ComputeWorker() { stop(); }

void ComputeWorker::replace_engine(std::unique_ptr<Engine> engine) {
  engine_ = std::move(engine);
  base_ = LatencyBase(engine_->symbols().size());
}

void ComputeWorker::start() {
  thread_ = std::thread([this] { run(); });
  // "af-compute-N" in top and gdb (15 characters at most).
  const std::string name = "af-compute-" + std::to_string(index_);
  pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
}

void ComputeWorker::post(std::vector<Item>& items) {
  if (items.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) {
      queue_.swap(items);
    } else {
      queue_.insert(queue_.end(), items.begin(), items.end());
    }
  }
  items.clear();
  work_cv_.notify_one();
}

void ComputeWorker::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || !thread_.joinable(); });
}

bool ComputeWorker::idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && !busy_;
}

void ComputeWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::optional<Error> ComputeWorker::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void ComputeWorker::publish_counters() {
  const EngineStats& s = engine_->stats();
  counters_.duplicates.store(s.duplicates, std::memory_order_relaxed);
  counters_.revisions.store(s.revisions, std::memory_order_relaxed);
  counters_.nan_skipped.store(engine_->emitter().nan_skipped(), std::memory_order_relaxed);
  counters_.batched_model_runs.store(s.batched_model_runs, std::memory_order_relaxed);
  counters_.model_batches.store(s.model_batches, std::memory_order_relaxed);
  counters_.largest_model_flush.store(s.largest_model_flush, std::memory_order_relaxed);
}

void ComputeWorker::run() {
  std::vector<Item> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) break;  // stopping, and everything posted is done
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    for (const Item& item : batch) {
      if (engine_->failure()) break;  // the engine runs nothing after its chain guard stopped it
      if (item.clock) {
        engine_->on_clock(item.now);
      } else {
        base_.on_bar(item.symbol, item.live, item.final_at_us);
        engine_->on_source_bar(item.source, item.symbol, item.bar);
      }
    }
    batch.clear();
    lock.lock();
    if (queue_.empty()) {
      // The bars so far are all in: the model runs they deferred complete now, as
      // one batch (the records go out from here, before the worker reports idle).
      lock.unlock();
      engine_->flush_models();
      lock.lock();
    }
    publish_counters();
    if (engine_->failure() && !failure_) failure_ = *engine_->failure();
    if (queue_.empty()) {
      busy_ = false;
      idle_cv_.notify_all();
    }
  }
  busy_ = false;
  idle_cv_.notify_all();
}

}  // namespace af::service
