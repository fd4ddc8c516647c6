#include "sinks/csv_append_sink.hpp"
#include "sinks/sink_descriptor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/log.hpp"
#include "common/number_format.hpp"
#include "common/time.hpp"
#include "common/sync_directory.hpp"
#include "sinks/plan_sidecar.hpp"
#include "sinks/text_format.hpp"

namespace af::sinks {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kDrainAt = 256 * 1024;  // write out once this much is buffered
constexpr char kKeySep = '\x1f';         // cannot appear in a symbol or a name

// Splits one CSV line (RFC 4180 quoting) into fields.
bool split_csv(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  size_t i = 0;
  for (;;) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;  // unterminated quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur += line[i++];
      }
      if (i < line.size() && line[i] != ',') return false;
    } else {
      while (i < line.size() && line[i] != ',') cur += line[i++];
    }
    fields.push_back(cur);
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

}  // namespace

std::optional<RecordField> parse_record_field(std::string_view name) {
  if (name == "ts") return RecordField::kTs;
  if (name == "symbol") return RecordField::kSymbol;
  if (name == "dag_name") return RecordField::kDagName;
  if (name == "frame") return RecordField::kFrame;
  if (name == "column") return RecordField::kColumn;
  return std::nullopt;
}

CsvAppendSink::CsvAppendSink(std::string name, std::string path, std::vector<RecordField> dedup_key,
                             PlanIdentity plan, bool fresh)
    : name_(std::move(name)), path_(std::move(path)), plan_(std::move(plan)), fresh_(fresh) {
  for (RecordField f : dedup_key) {
    if (f == RecordField::kTs) continue;
    key_fields_.push_back(f);
    key_has_[static_cast<int>(f) - static_cast<int>(RecordField::kSymbol)] = true;
  }
  out_.reserve(kDrainAt + 4096);
  intern("");  // id 0: the empty string, and an absent field
}

CsvAppendSink::~CsvAppendSink() {
  if (fd_ >= 0) ::close(fd_);
}

Error CsvAppendSink::error(const std::string& what, bool transient) const {
  return make_error(name_ + " (" + path_ + "): " + what, transient);
}

size_t CsvAppendSink::KeyHash::operator()(const Key& k) const {
  uint64_t h = (static_cast<uint64_t>(k[0]) << 32 | k[1]) * 0x9e3779b97f4a7c15ULL;
  h ^= (static_cast<uint64_t>(k[2]) << 32 | k[3]) + 0x7f4a7c159e3779b9ULL + (h << 6) + (h >> 2);
  return static_cast<size_t>(h ^ (h >> 29));
}

uint32_t CsvAppendSink::intern(std::string_view text) {
  auto [it, fresh] = ids_.emplace(std::string(text), static_cast<uint32_t>(names_.size()));
  if (fresh) {
    names_.emplace_back(text);
    quoted_.emplace_back();
    append_csv_field(quoted_.back(), text);
  }
  return it->second;
}

uint32_t CsvAppendSink::field_id(size_t field, const std::string* s) {
  if (s == nullptr) return 0;
  // A small direct-mapped cache per field, indexed by the pointer's bits (std::string
  // objects are 32 bytes apart at least).
  LastField& last = seen_[field][(reinterpret_cast<uintptr_t>(s) >> 5) % kSeenPerField];
  if (s == last.pointer && names_[last.id] == *s) return last.id;
  auto it = by_pointer_.find(s);
  uint32_t id = 0;
  if (it != by_pointer_.end() && names_[it->second] == *s) {
    id = it->second;
  } else {
    id = intern(*s);
    by_pointer_[s] = id;
  }
  last = LastField{s, id};
  return id;
}

CsvAppendSink::Key CsvAppendSink::key_of(const uint32_t (&ids)[4]) const {
  return {key_has_[0] ? ids[0] : 0, key_has_[1] ? ids[1] : 0, key_has_[2] ? ids[2] : 0, key_has_[3] ? ids[3] : 0};
}

bool CsvAppendSink::advance(const Key& key, int64_t ts) {
  auto [it, fresh] = high_water_.try_emplace(key, ts);
  if (fresh) return true;
  if (ts <= it->second) return false;
  it->second = ts;
  return true;
}

Status CsvAppendSink::open() {
  namespace fs = std::filesystem;
  const fs::path p(path_);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return error("cannot create directory '" + p.parent_path().string() + "': " + ec.message(), false);
  }
  std::error_code exists_ec;
  const bool created = !fs::exists(p, exists_ec);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return error(std::string("cannot open for writing: ") + std::strerror(errno), false);
  if (created) {
    if (Status s = sync_parent_directory(path_); !s) return error(s.error().message, false);
  }
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return error(std::string("cannot stat: ") + std::strerror(errno), false);
  if (!S_ISREG(st.st_mode)) return error("not a regular file", false);
  if (fresh_ && st.st_size > 0) {
    if (::ftruncate(fd_, 0) != 0) return error(std::string("cannot empty the file (--fresh): ") + std::strerror(errno), false);
    logger("sinks")->info("sink={} path={} started anew (--fresh): {} bytes of earlier output removed", name_, path_,
                          st.st_size);
    st.st_size = 0;
  }
  if (Status s = load_existing(static_cast<uint64_t>(st.st_size)); !s) return s;
  return check_plan();
}

Status CsvAppendSink::check_plan() {
  auto recorded = read_plan_sidecar(path_);
  if (!recorded) return error(recorded.error().message, false);
  std::vector<PlanEntry> entries = records_in_file_ == 0 ? std::vector<PlanEntry>{} : std::move(recorded).value();
  const std::string way_out =
      "start the outputs anew with `replay --fresh` (or delete the file and its .plan), or give the sink a new path";
  const std::string sidecar = plan_sidecar_path(path_);
  bool key_has_dag = false;
  for (RecordField f : key_fields_) key_has_dag = key_has_dag || f == RecordField::kDagName;
  for (const auto& e : entries) {
    if (e.pipeline != plan_.pipeline) continue;
    if (e.fingerprint == plan_.fingerprint) return {};
    return error("holds " + std::to_string(records_in_file_) + " predictions of a different plan of pipeline '" +
                     plan_.pipeline + "' (fingerprint " + e.fingerprint + " in " + sidecar + ", this plan's is " +
                     plan_.fingerprint + "): its rows would be kept and this run's skipped; " + way_out,
                 false);
  }
  if (records_in_file_ > 0 && entries.empty())
    return error("holds " + std::to_string(records_in_file_) + " predictions but no " + sidecar +
                     " says which plan wrote them: its rows would be kept and this run's skipped; " + way_out,
                 false);
  if (!entries.empty() && !key_has_dag)
    return error("holds predictions of pipeline '" + entries.front().pipeline + "' and its dedup_key lacks dag_name: " +
                     "this run's records would be skipped where that pipeline has rows; add dag_name to dedup_key, or " +
                     way_out,
                 false);
  entries.push_back(PlanEntry{plan_.fingerprint, plan_.pipeline});
  if (Status s = write_plan_sidecar(path_, entries); !s) return error(s.error().message, false);
  return {};
}

Status CsvAppendSink::load_existing(uint64_t size) {
  auto log = logger("sinks");
  std::string buf;
  std::vector<std::string> fields;
  uint64_t file_pos = 0;        // offset of buf[0]
  uint64_t line_no = 0;
  uint64_t good_end = 0;        // offset past the last complete line
  uint64_t malformed = 0;
  bool eof = false;
  size_t parsed = 0;
  while (true) {
    const size_t nl = buf.find('\n', parsed);
    if (nl == std::string::npos) {
      if (eof) break;
      buf.erase(0, parsed);
      file_pos += parsed;
      parsed = 0;
      const size_t have = buf.size();
      buf.resize(have + kReadChunk);
      ssize_t n;
      do {
        n = ::pread(fd_, buf.data() + have, kReadChunk, static_cast<off_t>(file_pos + have));
      } while (n < 0 && errno == EINTR);
      if (n < 0) return error(std::string("cannot read back: ") + std::strerror(errno), false);
      buf.resize(have + static_cast<size_t>(n));
      eof = n == 0;
      continue;
    }
    std::string_view line(buf.data() + parsed, nl - parsed);
    parsed = nl + 1;
    good_end = file_pos + parsed;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1) {
      if (line != kHeader)
        return error("line 1: unexpected header '" + std::string(line) + "', expected '" + kHeader + "'", false);
      continue;
    }
    if (line.empty()) continue;
    ++records_in_file_;
    std::optional<int64_t> ts;
    if (split_csv(line, fields) && fields.size() == 7) ts = parse_iso8601(fields[0]);
    if (!ts) {
      if (++malformed <= 5) log->warn("{}:{}: malformed line ignored for deduplication", path_, line_no);
      continue;
    }
    std::string held_key = fields[3];
    held_key += kKeySep;
    held_key += fields[1];
    auto [held, fresh] = held_at_open_.emplace(std::move(held_key), *ts);
    if (!fresh && *ts > held->second) held->second = *ts;
    const uint32_t ids[4] = {intern(fields[1]), intern(fields[3]), intern(fields[4]), intern(fields[5])};
    advance(key_of(ids), *ts);
  }
  if (malformed > 5) log->warn("{}: {} malformed lines ignored for deduplication", path_, malformed);
  if (good_end < size) {
    log->warn("sink={} path={} removed a torn last line ({} bytes, no trailing newline) left by an interrupted write",
              name_, path_, size - good_end);
    if (::ftruncate(fd_, static_cast<off_t>(good_end)) != 0)
      return error(std::string("cannot truncate the torn last line: ") + std::strerror(errno), false);
  }
  if (good_end == 0) {
    out_.append(kHeader);
    out_ += '\n';
    if (Status s = drain(); !s) return error(s.error().message, false);
  }
  if (!high_water_.empty())
    log->info("sink={} path={} resumes after {} keys (lines={})", name_, path_, high_water_.size(), line_no);
  return {};
}

Status CsvAppendSink::write(std::span<const PredictionRecord> batch) {
  if (fd_ < 0) return error("write before open", false);
  for (const auto& r : batch) {
    const uint32_t ids[4] = {field_id(0, r.symbol), field_id(1, r.dag_name), field_id(2, r.frame),
                             field_id(3, r.column)};
    if (!advance(key_of(ids), r.ts)) {
      ++deduplicated_;
      continue;
    }
    const std::string* fields[4] = {&quoted_[ids[0]], &quoted_[ids[1]], &quoted_[ids[2]], &quoted_[ids[3]]};
    // The line is formatted in one buffer and appended once. Its fixed parts take
    // at most 40 + 32 + 40 + 7 characters; names too long for the buffer go the slow way.
    char line[512];
    constexpr size_t kFixed = 128;
    const size_t names = fields[0]->size() + fields[1]->size() + fields[2]->size() + fields[3]->size();
    if (names > sizeof line - kFixed) {
      append_line_slowly(r, fields);
      continue;
    }
    char* p = times_.put(line, r.ts);
    *p++ = ',';
    p = std::copy(fields[0]->begin(), fields[0]->end(), p);
    *p++ = ',';
    p = put_double(p, r.prediction);
    for (size_t f = 1; f < 4; ++f) {
      *p++ = ',';
      p = std::copy(fields[f]->begin(), fields[f]->end(), p);
    }
    *p++ = ',';
    p = emitted_times_.put(p, r.emitted_at);
    *p++ = '\n';
    out_.append(line, p);
    ++written_;
  }
  // A formatted record is already counted in the high-water mark, so a failed
  // drain keeps it buffered (and reports a transient error): the retried batch
  // is then skipped as a duplicate and the buffer goes out on the next drain.
  if (out_.size() >= kDrainAt) return drain();
  return {};
}

void CsvAppendSink::append_line_slowly(const PredictionRecord& r, const std::string* const (&fields)[4]) {
  append_iso8601(out_, r.ts);
  out_ += ',';
  out_ += *fields[0];
  out_ += ',';
  append_double(out_, r.prediction);
  for (size_t f = 1; f < 4; ++f) {
    out_ += ',';
    out_ += *fields[f];
  }
  out_ += ',';
  append_iso8601(out_, r.emitted_at);
  out_ += '\n';
  ++written_;
}

Status CsvAppendSink::drain() {
  size_t done = 0;
  Status result;
  while (done < out_.size()) {
    ssize_t w = ::write(fd_, out_.data() + done, out_.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      result = error(std::string("write failed: ") + std::strerror(errno), true);
      break;
    }
    done += static_cast<size_t>(w);
  }
  out_.erase(0, done);
  return result;
}

Status CsvAppendSink::flush() {
  if (fd_ < 0) return {};
  return drain();
}

std::optional<int64_t> CsvAppendSink::last_ts(const std::string& dag_name, const std::string& symbol) const {
  auto it = held_at_open_.find(dag_name + kKeySep + symbol);
  if (it == held_at_open_.end()) return std::nullopt;
  return it->second;
}

Status CsvAppendSink::close() {
  if (fd_ < 0) return {};
  Status s = drain();
  if (::close(fd_) != 0 && s) s = error(std::string("close failed: ") + std::strerror(errno), false);
  fd_ = -1;
  return s;
}

registry::Descriptor csv_append_descriptor() {
  using registry::ParamSpec;
  using registry::ParamType;
  registry::Descriptor d = sink_descriptor();
  d.name = "sinks.csv_append";
  d.summary = "Append predictions to a CSV file, at most once per dedup key across restarts";
  d.doc =
      "Columns: `ts,symbol,prediction,dag_name,frame,column,emitted_at` (header written once, when the file is new "
      "or empty); ts and emitted_at in ISO-8601 UTC, prediction in the shortest form that reads back to the same "
      "double. Parent directories are created. On open the file is read back: a torn last line (no trailing "
      "newline, from a crash) is removed, and the newest ts per dedup key (without ts) becomes a high-water mark: "
      "a record whose ts is not above its key's mark is skipped, so a restart or a reconnect never writes a record "
      "twice. `<path>.plan` records the fingerprint of each pipeline's plan whose records the file holds: a file "
      "with records of a different plan of the same pipeline (or of no recorded plan) is refused at start, since its "
      "rows would be kept and the new run's skipped; `replay --fresh` empties it. Writes are buffered and flushed "
      "whenever the sink's queue runs empty (no fsync per line).";
  d.params.push_back(ParamSpec{"path", ParamType::kString, true, {}, {}, {}, {},
                               "the CSV file; relative paths are relative to the working directory"});
  d.params.push_back(ParamSpec{"dedup_key", ParamType::kStringList, false,
                               std::vector<std::string>{"ts", "symbol"}, {}, {}, {},
                               "record fields that identify a record, among ts, symbol, dag_name, frame, column; "
                               "must include ts (records of one key arrive in ts order)"});
  d.check = [](const registry::Params& p) {
    std::vector<std::string> problems;
    if (!p.has("dedup_key")) return problems;
    bool has_ts = false;
    const auto& key = p.get_string_list("dedup_key");
    for (const auto& f : key) {
      auto parsed = parse_record_field(f);
      if (!parsed) {
        problems.push_back("dedup_key: unknown field '" + f + "' (expected one of ts, symbol, dag_name, frame, column)");
      } else if (*parsed == RecordField::kTs) {
        has_ts = true;
      }
    }
    if (!has_ts) problems.push_back("dedup_key: must include ts (the high-water mark is kept per the other fields)");
    return problems;
  };
  return d;
}

void register_csv_append(SinkRegistry& registry) {
  registry.add(csv_append_descriptor(), [](const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    std::vector<RecordField> key{RecordField::kTs, RecordField::kSymbol};
    if (ctx.params.has("dedup_key")) {
      key.clear();
      for (const auto& f : ctx.params.get_string_list("dedup_key")) {
        auto parsed = parse_record_field(f);
        if (!parsed) return make_error(ctx.name + ": dedup_key: unknown field '" + f + "'");
        key.push_back(*parsed);
      }
    }
    bool has_ts = false;
    for (RecordField f : key) has_ts = has_ts || f == RecordField::kTs;
    if (!has_ts) return make_error(ctx.name + ": dedup_key: must include ts");
    if (ctx.plan_fingerprint.empty()) return make_error(ctx.name + ": no plan fingerprint (a bug in the caller)");
    return std::unique_ptr<Sink>(std::make_unique<CsvAppendSink>(
        ctx.name, ctx.params.get_string("path"), key,
        CsvAppendSink::PlanIdentity{ctx.dag_name, ctx.plan_fingerprint}, ctx.fresh));
  });
}

}  // namespace af::sinks
