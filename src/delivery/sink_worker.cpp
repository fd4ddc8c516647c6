#include "delivery/sink_worker.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <exception>

#include "common/time.hpp"

namespace af {

SinkWorker::SinkWorker(std::string name, std::unique_ptr<Sink> sink, SinkWorkerOptions options)
    : name_(std::move(name)),
      sink_(std::move(sink)),
      options_(std::move(options)),
      log_(logger("emitter")),
      ring_(std::max<size_t>(1, options_.queue_capacity)),
      rng_(std::random_device{}()) {
  assert(sink_ && "SinkWorker needs a sink");
  batch_.reserve(std::max<size_t>(1, options_.max_batch));
}

SinkWorker::~SinkWorker() {
  if (started_ && !closed_) {
    if (Status st = close(); !st) log_->error("sink={} close at destruction: {}", name_, st.error().message);
  }
}

std::string SinkWorker::named(const std::string& message) const {
  if (message.rfind(name_, 0) == 0) return message;
  return name_ + ": " + message;
}

void SinkWorker::set_spool_path(std::string path) {
  assert(!started_ && "set_spool_path after start");
  options_.spool_path = std::move(path);
}

void SinkWorker::start() {
  assert(!started_ && "SinkWorker::start called twice");
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

Status SinkWorker::wait_open() {
  assert(started_ && "SinkWorker::wait_open before start");
  std::unique_lock lock(open_mu_);
  open_cv_.wait(lock, [&] { return open_done_; });
  return open_status_;
}

bool SinkWorker::push(const PredictionRecord& record) {
  std::unique_lock lock(mu_);
  if (options_.block_when_full)
    space_cv_.wait(lock, [&] { return count_ < ring_.size() || dead_ || exited_ || spilling_ || holding_back_; });
  if (holding_back_) {
    hold_back_locked(1, "");
    return false;
  }
  const bool full = count_ == ring_.size();
  if (dead_ || exited_ || spilling_ || full) {
    if (spool_) {
      if (full && !spilling_ && !dead_ && !exited_) {
        spilling_ = true;
        uint64_t suppressed = 0;
        if (drop_log_limit_.allow(suppressed))
          log_->warn("sink={} queue full (capacity {}); spooling newer records to {}", name_, ring_.size(),
                     spool_->path());
      }
      size_t appended = 0;
      Status st = spool_->append({&record, 1}, false, &appended);
      if (appended == 1) {
        spooled_.fetch_add(1, std::memory_order_relaxed);
        update_spool_gauges_locked();
        lock.unlock();
        cv_.notify_one();
        return true;
      }
      hold_back_locked(1, st.error().message);
      return false;
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    uint64_t suppressed = 0;
    if (drop_log_limit_.allow(suppressed)) {
      const char* why = dead_ ? "the sink is stopped by a fatal error"
                        : exited_ ? "the sink is closed"
                        : spool_  ? "the spool cannot be written"
                                  : "the queue is full and no spool is configured";
      log_->error("sink={} record LOST ({}): ts={} symbol={} (lost so far: {}, {} more not logged)", name_, why,
                  record.ts, record.symbol ? *record.symbol : "", failed_.load(), suppressed);
    }
    return false;
  }
  ring_[(head_ + count_) % ring_.size()] = record;
  ++count_;
  depth_.store(count_, std::memory_order_relaxed);
  lock.unlock();
  cv_.notify_one();
  return true;
}

bool SinkWorker::settled() const {
  std::lock_guard lock(mu_);
  return count_ == 0 && !in_write_ && !unflushed_ && !holding_back_ && failed_.load(std::memory_order_relaxed) == 0;
}

std::optional<int64_t> SinkWorker::last_ts(const std::string& dag_name, const std::string& symbol) const {
  {
    std::lock_guard lock(open_mu_);
    assert(open_done_ && "SinkWorker::last_ts before wait_open");
    if (!open_status_) return std::nullopt;
  }
  return sink_->last_ts(dag_name, symbol);
}

void SinkWorker::hold_back_locked(size_t records, const std::string& why) {
  if (!holding_back_) {
    holding_back_ = true;
    spool_full_flag_.store(true, std::memory_order_release);
    last_error_ = named(why);
    log_->error(
        "sink={} the spool refused records: {}; every newer record is held back (not delivered) until a restart, "
        "which computes them again from the last snapshot",
        name_, why);
  }
  held_back_.fetch_add(records, std::memory_order_relaxed);
  space_cv_.notify_all();
}

void SinkWorker::update_spool_gauges_locked() {
  if (!spool_) return;
  spool_pending_.store(spool_->pending(), std::memory_order_relaxed);
  spool_bytes_.store(spool_->bytes(), std::memory_order_relaxed);
  spooling_flag_.store(spilling_, std::memory_order_relaxed);
}

Status SinkWorker::call(const char* what, const std::function<Status()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return make_error(name_ + ": " + what + " threw: " + e.what());
  } catch (...) {
    return make_error(name_ + ": " + what + " threw an unknown exception");
  }
}

void SinkWorker::set_last_error(const std::string& message) {
  std::lock_guard lock(mu_);
  last_error_ = named(message);
}

int64_t SinkWorker::backoff_ms(int attempt) {
  const auto& r = options_.retry;
  int64_t b = std::max<int64_t>(0, r.initial_backoff_ms);
  for (int i = 1; i < attempt && b < r.max_backoff_ms; ++i) b *= 2;
  b = std::min(b, r.max_backoff_ms);
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  return static_cast<int64_t>(static_cast<double>(b) * (1.0 - std::clamp(r.jitter, 0.0, 1.0) * u));
}

void SinkWorker::sleep_ms(int64_t ms, bool interruptible) {
  if (ms <= 0) return;
  if (!interruptible) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return;
  }
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping(); });
}

void SinkWorker::spill_locked(std::span<const PredictionRecord> first) {
  assert(spool_);
  // Records the spool refuses are held back together with every newer one (the
  // queue), so that the sink never receives a record before an older one.
  auto hold_back_rest = [&](size_t n, const std::string& why) {
    hold_back_locked(n + count_, why);
    head_ = count_ = 0;
  };
  if (!first.empty()) {
    if (holding_back_) {
      hold_back_rest(first.size(), "");
    } else {
      size_t appended = 0;
      Status st = spool_->append(first, false, &appended);
      spooled_.fetch_add(appended, std::memory_order_relaxed);
      if (appended < first.size()) hold_back_rest(first.size() - appended, st ? "" : st.error().message);
    }
  }
  // The queue holds records newer than `first`: they follow it into the spool.
  while (count_ > 0) {
    if (holding_back_) {
      hold_back_rest(0, "");
      break;
    }
    const size_t n = std::min(count_, ring_.size() - head_);
    std::span<const PredictionRecord> part(ring_.data() + head_, n);
    size_t appended = 0;
    Status st = spool_->append(part, false, &appended);
    spooled_.fetch_add(appended, std::memory_order_relaxed);
    head_ = (head_ + appended) % ring_.size();
    count_ -= appended;
    if (appended < n) {
      hold_back_rest(0, st ? "" : st.error().message);
      break;
    }
  }
  depth_.store(count_, std::memory_order_relaxed);
  // No fsync here: the producer may be waiting for mu_. The worker loop syncs
  // before it replays, and again before it exits.
  spilling_ = spool_->pending() > 0;
  space_cv_.notify_all();
  update_spool_gauges_locked();
}

void SinkWorker::on_fatal(const Error& error, std::span<const PredictionRecord> batch) {
  std::lock_guard lock(mu_);
  dead_ = true;
  space_cv_.notify_all();
  dead_flag_.store(true, std::memory_order_release);
  fatal_ = Error{named(error.message), false};
  last_error_ = fatal_.message;
  const size_t held = batch.size() + count_;
  if (spool_) {
    spill_locked(batch);
    log_->error("sink={} stopped by a fatal error: {}; {} undelivered records kept in {} for the next start{}", name_,
                error.message, held, spool_->path(), holding_back_ ? " (as far as it had room)" : "");
  } else {
    failed_.fetch_add(held, std::memory_order_relaxed);
    head_ = count_ = 0;
    depth_.store(0, std::memory_order_relaxed);
    log_->error("sink={} stopped by a fatal error: {}; {} undelivered records LOST (no spool)", name_, error.message,
                held);
  }
}

SinkWorker::Outcome SinkWorker::deliver_live(std::vector<PredictionRecord>& batch) {
  const int64_t first_failure = now_ms();
  int attempt = 0;
  for (;;) {
    Status st = call("write", [&] { return sink_->write(batch); });
    if (st) {
      sent_.fetch_add(batch.size(), std::memory_order_relaxed);
      skipped_.store(sink_->skipped(), std::memory_order_relaxed);
      return Outcome::kDelivered;
    }
    if (!st.error().transient) {
      on_fatal(st.error(), batch);
      return Outcome::kFatal;
    }
    set_last_error(st.error().message);
    ++attempt;
    const bool exhausted = attempt >= options_.retry.max_attempts;
    if (spool_ && (exhausted || now_ms() - first_failure >= options_.retry.spool_after_ms)) {
      std::lock_guard lock(mu_);
      spill_locked(batch);
      log_->warn("sink={} failing for {} ms ({} attempts): {}; {} records spooled, replayed when it recovers", name_,
                 now_ms() - first_failure, attempt, st.error().message, spooled_.load());
      return Outcome::kSpooled;
    }
    if (!spool_ && exhausted) {
      failed_.fetch_add(batch.size(), std::memory_order_relaxed);
      log_->error("sink={} {} records LOST after {} attempts (no spool configured): {}", name_, batch.size(), attempt,
                  st.error().message);
      return Outcome::kLost;
    }
    retried_.fetch_add(1, std::memory_order_relaxed);
    const int64_t wait = backoff_ms(attempt);
    log_->warn("sink={} write failed (attempt {}), retrying in {} ms: {}", name_, attempt, wait, st.error().message);
    // Not interruptible: a blip during shutdown still gets the whole (bounded) retry budget.
    sleep_ms(wait, false);
  }
}

SinkWorker::Outcome SinkWorker::deliver_from_spool(std::vector<PredictionRecord>& batch) {
  int attempt = 0;
  int attempts_while_stopping = 0;
  for (;;) {
    Status st = call("write", [&] { return sink_->write(batch); });
    if (st) {
      sent_.fetch_add(batch.size(), std::memory_order_relaxed);
      skipped_.store(sink_->skipped(), std::memory_order_relaxed);
      return Outcome::kDelivered;
    }
    if (!st.error().transient) {
      on_fatal(st.error(), {});  // the batch stays in the spool
      return Outcome::kFatal;
    }
    set_last_error(st.error().message);
    ++attempt;
    if (stopping()) {
      // Shutting down: the retry budget, then the records wait in the spool for the next start.
      if (++attempts_while_stopping >= options_.retry.max_attempts) return Outcome::kStopped;
      retried_.fetch_add(1, std::memory_order_relaxed);
      sleep_ms(backoff_ms(attempts_while_stopping), false);
      continue;
    }
    retried_.fetch_add(1, std::memory_order_relaxed);
    // Replay waits as long as the sink is down: the spool holds the records.
    const int64_t wait = backoff_ms(attempt);
    if (attempt == 1 || attempt % 10 == 0)
      log_->warn("sink={} still failing (attempt {}), {} records spooled: {}", name_, attempt,
                 spool_pending_.load(), st.error().message);
    sleep_ms(wait, true);
  }
}

void SinkWorker::run() {
  try {
    run_loop();
  } catch (const std::exception& e) {
    on_thread_exception(e.what());
  } catch (...) {
    on_thread_exception("unknown exception");
  }
}

void SinkWorker::on_thread_exception(const std::string& what) {
  const Error error{named("worker thread failed: " + what), false};
  {
    std::lock_guard lock(open_mu_);
    if (!open_done_) {
      {
        std::lock_guard l(mu_);
        dead_ = exited_ = true;
        fatal_ = error;
        last_error_ = error.message;
        space_cv_.notify_all();
      }
      dead_flag_.store(true, std::memory_order_release);
      open_done_ = true;
      open_status_ = error;
      open_cv_.notify_all();
      return;
    }
  }
  bool batch_in_hand = false;
  {
    std::lock_guard lock(mu_);
    batch_in_hand = in_write_;
    in_write_ = false;
  }
  // The batch in hand may or may not have reached the sink: spooling it again is
  // safe (the sink's dedup key absorbs a repeat), dropping it is not.
  on_fatal(error, batch_in_hand ? std::span<const PredictionRecord>(batch_) : std::span<const PredictionRecord>());
  try {
    finish_thread();
  } catch (const std::exception& e) {
    log_->error("sink={} cleanup after a worker failure failed: {}", name_, e.what());
  } catch (...) {
    log_->error("sink={} cleanup after a worker failure failed", name_);
  }
}

void SinkWorker::run_loop() {
  Status st;
  std::unique_ptr<Spool> spool;
  if (!options_.spool_path.empty()) {
    auto opened = Spool::open(options_.spool_path, options_.spool_max_bytes);
    if (!opened) {
      st = Error{named(opened.error().message), false};
    } else {
      spool = std::move(opened.value());
    }
  }
  if (st) st = call("open", [&] { return sink_->open(); });
  {
    std::lock_guard lock(mu_);
    spool_ = std::move(spool);
    if (spool_) {
      spilling_ = spool_->pending() > 0;
      update_spool_gauges_locked();
    }
    if (!st) {
      dead_ = exited_ = true;
      space_cv_.notify_all();
      dead_flag_.store(true, std::memory_order_release);
      fatal_ = Error{named(st.error().message), false};
      last_error_ = fatal_.message;
      st = fatal_;
    }
  }
  {
    std::lock_guard lock(open_mu_);
    open_done_ = true;
    open_status_ = st;
  }
  open_cv_.notify_all();
  if (!st) return;  // never opened, so not closed either

  int flush_failures = 0;
  for (;;) {
    std::unique_lock lock(mu_);
    if (dead_) break;
    if (count_ > 0) {
      const size_t n = std::min(count_, std::max<size_t>(1, options_.max_batch));
      batch_.clear();
      for (size_t i = 0; i < n; ++i) {
        batch_.push_back(ring_[head_]);
        head_ = (head_ + 1) % ring_.size();
      }
      count_ -= n;
      depth_.store(count_, std::memory_order_relaxed);
      in_write_ = true;
      lock.unlock();
      space_cv_.notify_all();
      const Outcome o = deliver_live(batch_);
      lock.lock();
      in_write_ = false;
      if (o == Outcome::kDelivered) unflushed_ = true;
      continue;
    }
    if (spilling_) {
      lock.unlock();
      if (Status s = spool_->sync(); !s) log_->error("sink={} {}", name_, s.error().message);
      if (Status rs = spool_->read(batch_, std::max<size_t>(1, options_.max_batch)); !rs) {
        on_fatal(rs.error(), {});
        break;
      }
      if (batch_.empty()) {  // only corrupt lines, or nothing left
        if (Status c = spool_->commit(); !c) log_->error("sink={} {}", name_, c.error().message);
        lock.lock();
        spilling_ = spool_->pending() > 0;
        update_spool_gauges_locked();
        continue;
      }
      const Outcome o = deliver_from_spool(batch_);
      if (o != Outcome::kDelivered) break;  // fatal, or stopping while the sink is down
      // The spool lets go of the batch only once the sink has it durably; until
      // then the spool holding it is what keeps it settled.
      if (!flush_replayed()) break;
      if (Status c = spool_->commit(); !c) log_->error("sink={} {}", name_, c.error().message);
      replayed_.fetch_add(batch_.size(), std::memory_order_relaxed);
      std::lock_guard l(mu_);
      update_spool_gauges_locked();
      continue;
    }
    if (unflushed_) {
      lock.unlock();
      Status fs = call("flush", [&] { return sink_->flush(); });
      if (fs) {
        lock.lock();
        unflushed_ = false;
        flush_failures = 0;
      } else if (!fs.error().transient) {
        on_fatal(fs.error(), {});
        break;
      } else {
        set_last_error(fs.error().message);
        ++flush_failures;
        if (stopping() && flush_failures >= options_.retry.max_attempts) break;  // close() reports it
        log_->warn("sink={} flush failed (attempt {}): {}", name_, flush_failures, fs.error().message);
        sleep_ms(backoff_ms(flush_failures), true);
      }
      continue;
    }
    if (stopping()) break;
    cv_.wait(lock);
  }
  finish_thread();
}

bool SinkWorker::flush_replayed() {
  int attempt = 0;
  for (;;) {
    Status fs = call("flush", [&] { return sink_->flush(); });
    if (fs) {
      std::lock_guard lock(mu_);
      unflushed_ = false;
      return true;
    }
    if (!fs.error().transient) {
      on_fatal(fs.error(), {});  // the batch stays in the spool
      return false;
    }
    set_last_error(fs.error().message);
    ++attempt;
    retried_.fetch_add(1, std::memory_order_relaxed);
    if (stopping() && attempt >= options_.retry.max_attempts) return false;  // the spool keeps the batch
    if (attempt == 1 || attempt % 10 == 0)
      log_->warn("sink={} flush after replay failed (attempt {}), the batch stays spooled: {}", name_, attempt,
                 fs.error().message);
    sleep_ms(backoff_ms(attempt), !stopping());
  }
}

void SinkWorker::finish_thread() {
  std::vector<std::string> problems;
  {
    std::lock_guard lock(mu_);
    exited_ = true;
    space_cv_.notify_all();
    if (count_ > 0) {  // only after a fatal error without a spool write, or a failed spool write
      failed_.fetch_add(count_, std::memory_order_relaxed);
      head_ = count_ = 0;
      depth_.store(0, std::memory_order_relaxed);
    }
  }
  if (!dead_flag_.load()) {
    if (Status fs = call("flush", [&] { return sink_->flush(); }); !fs) {
      problems.push_back(named(fs.error().message));
    } else {
      std::lock_guard lock(mu_);
      unflushed_ = false;
    }
  }
  if (Status cs = call("close", [&] { return sink_->close(); }); !cs) problems.push_back(named(cs.error().message));
  if (spool_) {
    if (Status s = spool_->sync(); !s) problems.push_back(named(s.error().message));
    {
      std::lock_guard lock(mu_);
      update_spool_gauges_locked();
    }
    if (spool_->pending() > 0)
      log_->warn("sink={} {} records left in {} for the next start", name_, spool_->pending(), spool_->path());
  }
  for (const auto& p : problems) {
    if (!close_error_.empty()) close_error_ += "; ";
    close_error_ += p;
  }
}

Status SinkWorker::close() {
  if (!started_ || closed_) return closed_ ? close_status_ : Status{};
  {
    std::lock_guard lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  thread_.join();
  closed_ = true;
  std::string msg;
  auto add = [&](const std::string& m) {
    if (!msg.empty()) msg += "; ";
    msg += m;
  };
  {
    std::lock_guard lock(mu_);
    if (dead_) add(fatal_.message);
  }
  if (!close_error_.empty()) add(close_error_);
  if (const uint64_t lost = failed_.load(); lost > 0) add(name_ + ": " + std::to_string(lost) + " records lost");
  if (const uint64_t held = held_back_.load(); held > 0)
    add(name_ + ": " + std::to_string(held) +
        " records held back (spool full or failing); the next start computes them again from the last snapshot");
  close_status_ = msg.empty() ? Status{} : Status{make_error(msg)};
  return close_status_;
}

Status SinkWorker::status() const {
  std::lock_guard lock(mu_);
  if (dead_) return fatal_;
  return {};
}

SinkStats SinkWorker::stats() const {
  SinkStats s;
  s.name = name_;
  s.sent = sent_.load(std::memory_order_relaxed);
  s.skipped = skipped_.load(std::memory_order_relaxed);
  s.retried = retried_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.spooled = spooled_.load(std::memory_order_relaxed);
  s.replayed = replayed_.load(std::memory_order_relaxed);
  s.queue_depth = depth_.load(std::memory_order_relaxed);
  s.spool_pending = spool_pending_.load(std::memory_order_relaxed);
  s.spool_bytes = spool_bytes_.load(std::memory_order_relaxed);
  if (!options_.spool_path.empty() && options_.spool_max_bytes != Spool::kUnbounded)
    s.spool_limit_bytes = options_.spool_max_bytes;
  s.held_back = held_back_.load(std::memory_order_relaxed);
  s.spooling = spooling_flag_.load(std::memory_order_relaxed);
  s.spool_full = spool_full_flag_.load(std::memory_order_acquire);
  s.dead = dead_flag_.load(std::memory_order_acquire);
  std::lock_guard lock(mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace af
