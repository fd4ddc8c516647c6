#pragma once
// SnapshotWriter: writes the live service's snapshots on a thread of its own, so
// that the file write and its fsync (tens to hundreds of ms on a busy disk) never
// hold up the compute thread, which only serialises the engine (a memory copy).
// One slot: a snapshot submitted while the previous one is still being written
// replaces any waiting one (only the newest matters). Owned by the live driver;
// submit() and close() come from the compute thread; the counters and
// last_status() may be read from any thread. An exception while writing is that
// snapshot's failure (counted, logged), never the end of the process.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "service/state_store.hpp"

namespace af::service {

class SnapshotWriter {
 public:
  explicit SnapshotWriter(const StateStore& store);
  ~SnapshotWriter();  // close()
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  void submit(Snapshot snapshot);
  // Writes what is waiting, then stops the thread. Idempotent.
  void close();

  uint64_t written() const { return written_.load(); }
  uint64_t failed() const { return failed_.load(); }
  // Wall-clock ms of the newest snapshot written; 0 before the first.
  int64_t last_written_ms() const { return last_written_ms_.load(); }
  // The outcome of the newest write attempt (ok before the first); after close(),
  // the final snapshot's when one was submitted.
  Status last_status() const;

 private:
  void run();
  void write(const Snapshot& s);

  const StateStore& store_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<Snapshot> waiting_;
  Status last_status_;  // guarded by mutex_
  bool closing_ = false;
  std::atomic<uint64_t> written_{0}, failed_{0};
  std::atomic<int64_t> last_written_ms_{0};
  std::thread thread_;
};

}  // namespace af::service
