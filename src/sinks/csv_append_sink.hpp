#pragma once
// CsvAppendSink (`sinks.csv_append`): appends prediction records to a CSV file,
// at most once per dedup key across restarts. Built by the SinkRegistry factory;
// owned and driven by one SinkWorker thread (no internal locking).
//
// On open it reads the file back and keeps, per dedup key minus ts, the newest
// ts written (records of one key arrive in ts order, so this high-water mark is
// all that is needed: it grows with the number of keys, not of records). A torn
// last line left by a crash is cut off. Writes are buffered and reach the file on
// flush() (the worker flushes whenever its queue runs empty); no fsync per line.
// A new file's directory is fsynced once, so the file itself survives a crash.
// last_ts() answers from what the file held at open: per (dag_name, symbol), the
// newest ts (the restart's catch-up point when there is no usable snapshot).
//
// The file's plan sidecar (`<path>.plan`, sinks/plan_sidecar.hpp) names the
// plans whose predictions it holds. A file holding records of another plan of
// the same pipeline, or of no recorded plan, is refused at open: its marks would
// skip this run's records and keep the old ones. `fresh` truncates it first.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/descriptor.hpp"
#include "runtime/sink.hpp"
#include "sinks/text_format.hpp"

namespace af::sinks {

enum class RecordField { kTs, kSymbol, kDagName, kFrame, kColumn };

class CsvAppendSink : public Sink {
 public:
  static constexpr const char* kHeader = "ts,symbol,prediction,dag_name,frame,column,emitted_at";

  // The plan whose records this sink writes: its pipeline's name and its fingerprint.
  struct PlanIdentity {
    std::string pipeline;
    std::string fingerprint;  // 16 hex digits
  };

  // `dedup_key` must contain kTs. `fresh`: empty the file on open.
  CsvAppendSink(std::string name, std::string path, std::vector<RecordField> dedup_key, PlanIdentity plan,
                bool fresh = false);
  ~CsvAppendSink() override;

  Status open() override;
  Status write(std::span<const PredictionRecord> batch) override;
  Status flush() override;
  Status close() override;
  std::optional<int64_t> last_ts(const std::string& dag_name, const std::string& symbol) const override;

  uint64_t written() const { return written_; }            // records formatted (this process)
  uint64_t deduplicated() const { return deduplicated_; }  // records skipped: ts <= the key's high-water mark
  uint64_t skipped() const override { return deduplicated_; }
  size_t keys() const { return high_water_.size(); }

 private:
  Error error(const std::string& what, bool transient) const;
  Status load_existing(uint64_t size);
  Status check_plan();  // after load_existing: refuses records of another plan, records this one
  Status drain();  // writes out_ to the file, keeping what could not be written

  // The high-water mark's key: the interned id of each string field of the
  // record (kSymbol, kDagName, kFrame, kColumn order), 0 for a field not in the
  // dedup key. Built per record from four small integers, never from text.
  using Key = std::array<uint32_t, 4>;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  // The id of `text`: equal text, equal id (0 is the empty string and an absent field).
  uint32_t intern(std::string_view text);
  // The id of a record's field: records point at long-lived strings, so the
  // pointer is remembered with its id; the text is compared each time, so a
  // pointer reused for other text is re-interned, never confused.
  // `field` is the record field's place (0 symbol, 1 dag_name, 2 frame, 3
  // column): the pointers recently seen there are checked first (a replay over
  // threads has one set of names per thread's engine, a universe of symbols).
  uint32_t field_id(size_t field, const std::string* s);
  // The record's line through std::string appends (a name too long for write()'s
  // buffer): the same layout as write()'s stack-buffer path, kept apart because
  // sharing one formatter cost that path ~3% (sinks_bench direct, 151 -> 155 ns);
  // csv_append_test's LongNamesAndNanFormatLikeShortOnes holds the two equal.
  void append_line_slowly(const PredictionRecord& r, const std::string* const (&fields)[4]);
  Key key_of(const uint32_t (&ids)[4]) const;
  // Raises `key`'s mark to `ts`; false when ts is not above it (a duplicate).
  bool advance(const Key& key, int64_t ts);

  const std::string name_;
  const std::string path_;
  std::vector<RecordField> key_fields_;  // the dedup key without ts
  const PlanIdentity plan_;
  const bool fresh_;
  uint64_t records_in_file_ = 0;  // data lines found on open
  int fd_ = -1;
  std::string out_;   // formatted, not yet written
  bool key_has_[4] = {false, false, false, false};  // per string field: part of the dedup key
  std::vector<std::string> names_;                   // id -> text
  std::vector<std::string> quoted_;                  // id -> text as a CSV field (quoted when needed)
  std::unordered_map<std::string, uint32_t> ids_;    // text -> id
  std::unordered_map<const std::string*, uint32_t> by_pointer_;
  struct LastField {
    const std::string* pointer = nullptr;
    uint32_t id = 0;
  };
  static constexpr size_t kSeenPerField = 64;
  LastField seen_[4][kSeenPerField];
  Iso8601Writer times_;          // the records' ts
  Iso8601Writer emitted_times_;  // their emitted_at (another day sequence)
  std::unordered_map<Key, int64_t, KeyHash> high_water_;
  // dag_name kKeySep symbol -> newest ts in the file at open; written by open() only.
  std::unordered_map<std::string, int64_t> held_at_open_;
  uint64_t written_ = 0;
  uint64_t deduplicated_ = 0;
};

// The descriptor of `sinks.csv_append` (params, docs), and its registration.
registry::Descriptor csv_append_descriptor();
void register_csv_append(SinkRegistry& registry);

// "ts" -> kTs, ...; nullopt for anything else.
std::optional<RecordField> parse_record_field(std::string_view name);

}  // namespace af::sinks
