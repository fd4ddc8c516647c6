#pragma once
// Spool: a durable, append-only file of prediction records for ONE sink, used
// when that sink cannot take records (down for longer than the retry policy
// allows, or its queue is full). Records are replayed oldest first when the sink
// recovers, also after a process restart: the file outlives the process.
//
// Owned by that sink's SinkWorker. Thread-safe: the producer (the emitter's
// caller, when the queue is full) appends while the worker thread reads and
// commits; an internal mutex serialises them.
//
// File format, one record per line: `<crc32 of payload, 8 hex digits> <payload>\n`,
// payload = tab-separated ts, symbol, prediction, dag_name, frame, column,
// emitted_at, origin. A sidecar `<path>.offset` holds the byte offset and line
// number of the first undelivered line, so a restart does not replay what was
// already delivered (a crash between delivery and the offset update replays a
// batch again: the sink's dedup key absorbs it). A line whose checksum does not
// match is skipped with a warning naming file:line; a torn last line (a crash
// mid-append) is cut off when the spool is opened.
//
// Size bound: the file may not grow past `max_bytes` (what was already delivered
// counts until the file is truncated, which happens once everything is
// delivered). An append that would cross it writes nothing and fails with
// "spool full"; the SinkWorker then holds the sink's newer records back (see
// docs/sinks.md, "Spool bound"). Creating the file or its offset sidecar fsyncs
// the directory, so that a crash cannot lose the file itself.

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/result.hpp"
#include "runtime/record.hpp"

namespace af {

class Spool {
 public:
  static constexpr uint64_t kUnbounded = UINT64_MAX;

  // Opens (creating the file and its directory if needed) the spool at `path`.
  static Result<std::unique_ptr<Spool>> open(const std::string& path, uint64_t max_bytes = kUnbounded);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const std::string& path() const { return path_; }

  // Appends records after every pending one. When the file would grow past
  // max_bytes, only the records that fit are appended (their count in
  // `*appended`, if given) and the Error says "spool full" (full() is then true).
  // `sync`: fsync before returning
  // (the worker spooling a batch); otherwise the data is in the kernel (it
  // survives the process) and sync() makes it durable later.
  Status append(std::span<const PredictionRecord> records, bool sync, size_t* appended = nullptr);
  // fsyncs what append() wrote since the last sync (a no-op when nothing did).
  Status sync();

  // Reads up to `max` pending records, oldest first, into `out` (cleared). The
  // strings they point to are owned by the spool and live as long as it does.
  // Corrupt lines are skipped (warned, counted). Nothing is consumed until
  // commit(); a second read() without commit() returns the same records.
  Status read(std::vector<PredictionRecord>& out, size_t max);
  // Marks every line returned (or skipped) by the last read() as delivered. When
  // nothing is left, the file is truncated to zero.
  Status commit();

  uint64_t pending() const;  // lines not yet committed (corrupt ones included)
  uint64_t bytes() const;    // the file's size now
  uint64_t max_bytes() const { return max_bytes_; }
  // True when the last append() was refused by the size bound.
  bool full() const;
  uint64_t corrupt() const;  // corrupt lines skipped so far

  // Serialises one record as a spool line (with checksum and newline); exposed
  // for tests that write corrupt spools by hand.
  static void append_line(std::string& out, const PredictionRecord& r);
  static uint32_t crc32(std::string_view data);

 private:
  Spool(std::string path, int fd, int offset_fd, uint64_t max_bytes);
  Status write_offset_locked();
  const std::string* intern(std::string_view s);

  const std::string path_;
  const int fd_;
  const int offset_fd_;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  uint64_t size_ = 0;  // bytes in the file
  bool full_ = false;
  uint64_t committed_offset_ = 0;  // byte offset of the first pending line
  uint64_t committed_line_ = 0;    // its 0-based line number in the file
  uint64_t read_end_offset_ = 0;   // past the last line handed out by read()
  uint64_t read_lines_ = 0;        // lines handed out or skipped by read()
  uint64_t pending_ = 0;
  uint64_t corrupt_ = 0;
  bool dirty_ = false;
  std::string line_buf_;  // reused by append()
  std::string read_buf_;  // reused by read()
  // Strings of replayed records. A node-based set keeps their addresses stable;
  // it holds symbols and names only, so it stays small.
  std::unordered_set<std::string> strings_;
};

}  // namespace af
