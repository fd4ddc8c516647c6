#include "service/snapshot_writer.hpp"

#include "common/log.hpp"
#include "common/time.hpp"

namespace af::service {

SnapshotWriter::SnapshotWriter(const StateStore& store) : store_(store), thread_([this] { run(); }) {}

SnapshotWriter::~SnapshotWriter() { close(); }

void SnapshotWriter::submit(Snapshot snapshot) {
  {
    std::lock_guard lock(mutex_);
    waiting_ = std::move(snapshot);
  }
  cv_.notify_one();
}

void SnapshotWriter::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_ && !thread_.joinable()) return;
    closing_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SnapshotWriter::run() {
  for (;;) {
    Snapshot s;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return waiting_.has_value() || closing_; });
      if (!waiting_) return;  // closing, nothing left
      s = std::move(*waiting_);
      waiting_.reset();
    }
    write(s);
  }
}

void SnapshotWriter::write(const Snapshot& s) {
  Status st;
  try {
    st = store_.save(s);
  } catch (const std::exception& e) {
    st = make_error(store_.snapshot_path() + ": writing threw: " + e.what());
  } catch (...) {
    st = make_error(store_.snapshot_path() + ": writing threw an unknown exception");
  }
  if (!st) {
    failed_.fetch_add(1);
    logger("service")->error("snapshot failed (the previous one stays): {}", st.error().message);
  } else {
    written_.fetch_add(1);
    last_written_ms_.store(now_ms());
  }
  std::lock_guard lock(mutex_);
  last_status_ = st;
}

Status SnapshotWriter::last_status() const {
  std::lock_guard lock(mutex_);
  return last_status_;
}

}  // namespace af::service
