#pragma once
// SinkWorker: one sink, its bounded queue, its spool and the one thread that
// drives it. Owned by the SignalEmitter. push() is called by the emitter's caller
// (the engine's event loop) and never blocks on the sink nor allocates; every
// call on the Sink itself (open, write, flush, close) comes from the worker
// thread. Counters are atomics, readable from any thread.
//
// Delivery order is the push order. The queue is a preallocated ring; when it is
// full, or when the sink has been failing for longer than the retry policy
// allows, records go to the spool (if one is configured), and while the spool
// holds records every newer record goes there too, so that the spool is replayed
// before anything newer reaches the sink.
//
// A record is settled once the sink durably holds it (a write and then a
// successful flush) or the spool does. When the spool reaches its size bound (or
// cannot be written), the worker holds the sink's newer records back: they are
// not delivered in this process (delivering a newer record first would move a
// deduplicating sink's high-water mark past them) and the worker never counts as
// settled again, so no snapshot passes them and a restart computes them again.
// The thread's top level turns an exception into this sink's fatal-error path.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "runtime/record.hpp"
#include "runtime/sink.hpp"
#include "delivery/spool.hpp"

namespace af {

// How a failing write is retried. Sleeps grow exponentially from
// initial_backoff_ms up to max_backoff_ms; each one is shortened by a random
// fraction (up to `jitter`) so that sinks failing together do not retry in step.
struct RetryPolicy {
  int max_attempts = 5;  // writes of one batch before it is spooled (or, with no spool, lost and counted)
  int64_t initial_backoff_ms = 100;
  int64_t max_backoff_ms = 5000;
  double jitter = 0.5;  // in [0, 1]
  // With a spool: a batch that has been failing for this long is spooled even
  // before max_attempts, so that the queue keeps moving.
  int64_t spool_after_ms = 10'000;
};

struct SinkWorkerOptions {
  size_t queue_capacity = 65'536;  // records; preallocated
  size_t max_batch = 512;          // records per write()
  RetryPolicy retry;
  std::string spool_path;  // empty: no spool
  // The spool file's size bound (docs/sinks.md, "Spool bound").
  uint64_t spool_max_bytes = uint64_t{1} << 30;
  // Replay sets this: its producer can wait, so a full queue makes push() wait for
  // room while the sink is alive, rather than spilling to the spool or losing the
  // record. The live service leaves it off: the event loop must never block.
  bool block_when_full = false;
};

// A snapshot of one sink's counters.
struct SinkStats {
  std::string name;
  uint64_t sent = 0;           // records accepted by write()
  uint64_t skipped = 0;        // of those, records the sink already held and did not store again
  uint64_t retried = 0;        // write() attempts that failed transiently and were retried
  uint64_t failed = 0;         // records lost: not delivered and not spooled
  uint64_t spooled = 0;        // records written to the spool
  uint64_t replayed = 0;       // records delivered from the spool
  uint64_t queue_depth = 0;    // records waiting in the queue now
  uint64_t spool_pending = 0;  // records waiting in the spool now
  uint64_t spool_bytes = 0;    // the spool file's size now
  uint64_t spool_limit_bytes = 0;  // the spool file's size bound (0: no spool, or unbounded)
  uint64_t held_back = 0;      // records held back because the spool was full or failing
  bool spooling = false;       // newer records go to the spool (it holds undelivered records)
  bool spool_full = false;     // the spool refused records: newer ones are held back until a restart
  bool dead = false;           // a fatal error stopped this sink
  std::string last_error;      // the most recent error, fatal or not ("" if none)
};

class SinkWorker {
 public:
  SinkWorker(std::string name, std::unique_ptr<Sink> sink, SinkWorkerOptions options);
  ~SinkWorker();  // closes (drains) if still running
  SinkWorker(const SinkWorker&) = delete;
  SinkWorker& operator=(const SinkWorker&) = delete;

  const std::string& name() const { return name_; }
  const SinkWorkerOptions& options() const { return options_; }
  // Before start(): where this sink spools ("" = no spool).
  void set_spool_path(std::string path);

  // Starts the thread, which opens the spool and the sink; wait_open() returns
  // the outcome. Split so that an emitter opens all its sinks in parallel.
  void start();
  Status wait_open();

  // Hands one record to the worker. Never blocks on the sink, never allocates.
  // Returns false when the record was lost (queue full and no spool, or a dead
  // sink without a spool; counted in `failed`) or held back (the spool is full or
  // failing; counted in `held_back`), logged either way.
  bool push(const PredictionRecord& record);

  // Drains the queue (and the spool, while the sink accepts), flushes and closes
  // the sink, joins the thread. Returns the fatal error, a close error, or a
  // summary of lost records, if any. Idempotent.
  Status close();

  // True when every record pushed so far is settled: written to the sink and
  // flushed since, or in the spool (durable across a crash of the process); none
  // is queued, in a write or written but not yet flushed, and none was lost or
  // held back. The live service snapshots its state only at such moments.
  bool settled() const;

  // The sink's Sink::last_ts; after wait_open() succeeded, from any thread.
  std::optional<int64_t> last_ts(const std::string& dag_name, const std::string& symbol) const;

  // The fatal error that stopped this sink, if any.
  Status status() const;
  SinkStats stats() const;

 private:
  enum class Outcome { kDelivered, kSpooled, kLost, kFatal, kStopped };

  void run();
  void run_loop();
  void on_thread_exception(const std::string& what);
  void finish_thread();
  // Flushes after a replayed batch, retrying while the sink fails transiently;
  // false when the batch stays in the spool (fatal error, or stopping).
  bool flush_replayed();
  void hold_back_locked(size_t records, const std::string& why);
  void update_spool_gauges_locked();
  Status call(const char* what, const std::function<Status()>& fn);
  Outcome deliver_live(std::vector<PredictionRecord>& batch);
  Outcome deliver_from_spool(std::vector<PredictionRecord>& batch);
  void spill_locked(std::span<const PredictionRecord> first);
  void on_fatal(const Error& error, std::span<const PredictionRecord> batch);
  void set_last_error(const std::string& message);
  std::string named(const std::string& message) const;
  int64_t backoff_ms(int attempt);
  // Sleeps `ms`, or less when close() is called and `interruptible`.
  void sleep_ms(int64_t ms, bool interruptible);
  bool stopping() const { return stop_.load(std::memory_order_acquire); }

  const std::string name_;
  std::unique_ptr<Sink> sink_;
  SinkWorkerOptions options_;  // fixed once start() is called
  std::shared_ptr<spdlog::logger> log_;
  std::thread thread_;

  // Guards the ring, spilling_, dead_, exited_ and the spool pointer's use by push().
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable space_cv_;  // the worker took records out: room in the ring
  std::vector<PredictionRecord> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
  bool spilling_ = false;  // the spool holds records newer than the queue's
  bool dead_ = false;
  bool exited_ = false;  // the thread has stopped taking records
  bool in_write_ = false;  // the worker holds a batch taken from the queue
  bool unflushed_ = false;  // records were written to the sink since its last successful flush
  bool holding_back_ = false;  // the spool refused records: every newer one is held back
  std::unique_ptr<Spool> spool_;
  Error fatal_;
  std::string last_error_;
  std::string close_error_;  // written by the thread before it ends, read after join

  std::atomic<bool> stop_{false};
  bool started_ = false;
  bool closed_ = false;
  Status close_status_;
  mutable std::mutex open_mu_;
  std::condition_variable open_cv_;
  bool open_done_ = false;
  Status open_status_;

  std::atomic<uint64_t> sent_{0}, skipped_{0}, retried_{0}, failed_{0}, spooled_{0}, replayed_{0}, depth_{0},
      spool_pending_{0};
  std::atomic<uint64_t> held_back_{0}, spool_bytes_{0};
  std::atomic<bool> dead_flag_{false}, spooling_flag_{false}, spool_full_flag_{false};
  std::mt19937_64 rng_;
  RateLimiter drop_log_limit_{5, 10'000};
  std::vector<PredictionRecord> batch_;  // worker thread only
};

}  // namespace af
