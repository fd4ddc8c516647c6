#include "delivery/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/log.hpp"
#include "common/number_format.hpp"
#include "common/sync_directory.hpp"

namespace af {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kOffsetRecordSize = 42;  // "%020llu %020llu\n"

std::string errno_text(int err) { return std::strerror(err); }

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

// Strings in the payload are separated by tabs; a tab, newline or backslash
// inside one is escaped so that a line always splits into the same fields.
void append_escaped(std::string& out, const std::string* s) {
  if (s == nullptr) return;
  for (char c : *s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

bool unescape(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (++i == in.size()) return false;
    switch (in[i]) {
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: return false;
    }
  }
  return true;
}

bool parse_i64(std::string_view s, int64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_f64(std::string_view s, double& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

Status write_all(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return make_error(path + ": write failed: " + errno_text(errno), true);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

}  // namespace

uint32_t Spool::crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void Spool::append_line(std::string& out, const PredictionRecord& r) {
  const size_t start = out.size();
  out.append("00000000 ");
  const size_t payload = out.size();
  char num[32];
  auto [e1, ec1] = std::to_chars(num, num + sizeof num, r.ts);
  (void)ec1;
  out.append(num, e1);
  out += '\t';
  append_escaped(out, r.symbol);
  out += '\t';
  append_double(out, r.prediction);
  out += '\t';
  append_escaped(out, r.dag_name);
  out += '\t';
  append_escaped(out, r.frame);
  out += '\t';
  append_escaped(out, r.column);
  out += '\t';
  auto [e2, ec2] = std::to_chars(num, num + sizeof num, r.emitted_at);
  (void)ec2;
  out.append(num, e2);
  out += '\t';
  out += bar_origin_name(r.origin);
  const uint32_t crc = crc32(std::string_view(out).substr(payload));
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc);
  out.replace(start, 8, hex, 8);
  out += '\n';
}

Spool::Spool(std::string path, int fd, int offset_fd, uint64_t max_bytes)
    : path_(std::move(path)), fd_(fd), offset_fd_(offset_fd), max_bytes_(max_bytes) {}

Spool::~Spool() {
  ::fsync(fd_);
  ::close(fd_);
  ::close(offset_fd_);
}

Result<std::unique_ptr<Spool>> Spool::open(const std::string& path, uint64_t max_bytes) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return make_error(path + ": cannot create spool directory '" + p.parent_path().string() + "': " + ec.message());
  }
  const std::string offset_path = path + ".offset";
  std::error_code exists_ec;
  const bool created = !fs::exists(path, exists_ec) || !fs::exists(offset_path, exists_ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(path + ": cannot open spool: " + errno_text(errno));
  const int ofd = ::open(offset_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (ofd < 0) {
    const int err = errno;
    ::close(fd);
    return make_error(offset_path + ": cannot open spool offset file: " + errno_text(err));
  }
  std::unique_ptr<Spool> spool(new Spool(path, fd, ofd, max_bytes));
  if (created) {
    // The new entries must reach the disk before anything spooled in them counts as durable.
    if (Status st = sync_parent_directory(path); !st) return make_error(path + ": " + st.error().message);
  }
  auto log = logger("emitter");

  // Scan the file once: its size, where its last newline is, where lines start.
  uint64_t size = 0;
  uint64_t last_newline_end = 0;  // offset just past the last '\n'
  std::vector<uint64_t> newline_ends;  // only counted after the offset below
  {
    std::string buf(kReadChunk, '\0');
    for (;;) {
      ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(size));
      if (n < 0) {
        if (errno == EINTR) continue;
        return make_error(path + ": cannot read spool: " + errno_text(errno));
      }
      if (n == 0) break;
      for (ssize_t i = 0; i < n; ++i)
        if (buf[static_cast<size_t>(i)] == '\n') last_newline_end = size + static_cast<uint64_t>(i) + 1;
      size += static_cast<uint64_t>(n);
    }
  }
  if (last_newline_end < size) {
    log->warn("spool={} removed torn last line ({} bytes)", path, size - last_newline_end);
    if (::ftruncate(fd, static_cast<off_t>(last_newline_end)) != 0)
      return make_error(path + ": cannot truncate torn spool tail: " + errno_text(errno));
    size = last_newline_end;
  }

  // Where delivery stopped last time.
  uint64_t offset = 0, line = 0;
  {
    char rec[kOffsetRecordSize + 1] = {};
    ssize_t n = ::pread(ofd, rec, kOffsetRecordSize, 0);
    if (n > 0) {
      unsigned long long o = 0, l = 0;
      if (std::sscanf(rec, "%llu %llu", &o, &l) == 2) {
        offset = o;
        line = l;
      }
    }
  }
  if (offset > size) {
    log->warn("spool={} offset {} is past the end ({} bytes); replaying from the start", path, offset, size);
    offset = line = 0;
  } else if (offset > 0) {
    char before = 0;
    if (::pread(fd, &before, 1, static_cast<off_t>(offset - 1)) != 1 || before != '\n') {
      log->warn("spool={} offset {} is not at a line start; replaying from the start", path, offset);
      offset = line = 0;
    }
  }
  spool->committed_offset_ = offset;
  spool->committed_line_ = line;

  // Count pending lines.
  uint64_t pending = 0;
  {
    std::string buf(kReadChunk, '\0');
    uint64_t pos = offset;
    while (pos < size) {
      ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
      if (n < 0) {
        if (errno == EINTR) continue;
        return make_error(path + ": cannot read spool: " + errno_text(errno));
      }
      if (n == 0) break;
      for (ssize_t i = 0; i < n; ++i) pending += buf[static_cast<size_t>(i)] == '\n';
      pos += static_cast<uint64_t>(n);
    }
  }
  spool->pending_ = pending;
  if (pending == 0 && size > 0) {
    // Everything was delivered but the process stopped before truncating.
    if (::ftruncate(fd, 0) != 0) return make_error(path + ": cannot truncate spool: " + errno_text(errno));
    spool->committed_offset_ = spool->committed_line_ = 0;
    size = 0;
  }
  std::lock_guard lock(spool->mu_);
  spool->size_ = size;
  if (Status st = spool->write_offset_locked(); !st) return st.error();
  if (pending > 0) log->info("spool={} pending={} (replayed before newer records)", path, pending);
  return spool;
}

Status Spool::append(std::span<const PredictionRecord> records, bool sync_now, size_t* appended) {
  std::lock_guard lock(mu_);
  if (appended) *appended = 0;
  line_buf_.clear();
  const uint64_t room = size_ < max_bytes_ ? max_bytes_ - size_ : 0;
  size_t fit = 0;
  for (const auto& r : records) {
    const size_t before = line_buf_.size();
    append_line(line_buf_, r);
    if (line_buf_.size() > room) {
      line_buf_.resize(before);
      break;
    }
    ++fit;
  }
  full_ = fit < records.size();
  Status result;
  if (full_) {
    result = make_error(path_ + ": spool full (" + std::to_string(size_) + " bytes, bound " +
                            std::to_string(max_bytes_) + "; " + std::to_string(records.size() - fit) +
                            " records refused)",
                        true);
    if (fit == 0) return result;
  }
  struct stat st{};
  const off_t before = ::fstat(fd_, &st) == 0 ? st.st_size : -1;
  if (Status w = write_all(fd_, line_buf_.data(), line_buf_.size(), path_); !w) {
    // Never leave half a line behind: it would hide the next append's first line.
    if (before >= 0 && ::ftruncate(fd_, before) != 0) {
      logger("emitter")->error("spool={} cannot undo a partial append: {}", path_, errno_text(errno));
    }
    return w;
  }
  size_ += line_buf_.size();
  pending_ += fit;
  if (appended) *appended = fit;
  dirty_ = true;
  if (sync_now) {
    if (::fsync(fd_) != 0) return make_error(path_ + ": fsync failed: " + errno_text(errno), true);
    dirty_ = false;
  }
  return result;
}

Status Spool::sync() {
  std::lock_guard lock(mu_);
  if (!dirty_) return {};
  if (::fsync(fd_) != 0) return make_error(path_ + ": fsync failed: " + errno_text(errno), true);
  dirty_ = false;
  return {};
}

const std::string* Spool::intern(std::string_view s) { return &*strings_.emplace(s).first; }

Status Spool::read(std::vector<PredictionRecord>& out, size_t max) {
  std::lock_guard lock(mu_);
  out.clear();
  read_end_offset_ = committed_offset_;
  read_lines_ = 0;
  if (pending_ == 0 || max == 0) return {};
  auto log = logger("emitter");

  uint64_t file_pos = committed_offset_;  // file offset of read_buf_[0]
  size_t parsed = 0;                      // bytes of read_buf_ consumed
  read_buf_.clear();
  std::string field;
  bool eof = false;
  while (out.size() < max && read_lines_ < pending_) {
    const size_t nl = read_buf_.find('\n', parsed);
    if (nl == std::string::npos) {
      if (eof) break;
      // Keep the unparsed tail, read the next chunk after it.
      read_buf_.erase(0, parsed);
      file_pos += parsed;
      parsed = 0;
      const size_t have = read_buf_.size();
      read_buf_.resize(have + kReadChunk);
      ssize_t n;
      do {
        n = ::pread(fd_, read_buf_.data() + have, kReadChunk, static_cast<off_t>(file_pos + have));
      } while (n < 0 && errno == EINTR);
      if (n < 0) return make_error(path_ + ": cannot read spool: " + errno_text(errno), true);
      read_buf_.resize(have + static_cast<size_t>(n));
      eof = n == 0;
      continue;
    }
    const std::string_view line(read_buf_.data() + parsed, nl - parsed);
    parsed = nl + 1;
    const uint64_t line_no = committed_line_ + read_lines_ + 1;  // 1-based for messages
    ++read_lines_;
    read_end_offset_ = file_pos + parsed;

    auto corrupt = [&](const char* why) {
      ++corrupt_;
      log->warn("{}:{}: {}; line skipped", path_, line_no, why);
    };
    uint32_t want = 0;
    if (line.size() < 9 || line[8] != ' ' ||
        std::from_chars(line.data(), line.data() + 8, want, 16).ptr != line.data() + 8) {
      corrupt("malformed spool line (no checksum)");
      continue;
    }
    const std::string_view payload = line.substr(9);
    if (crc32(payload) != want) {
      corrupt("spool line checksum mismatch");
      continue;
    }
    std::array<std::string_view, 8> f;
    size_t nf = 0, start = 0;
    for (;;) {
      const size_t tab = payload.find('\t', start);
      if (nf == f.size()) {
        nf = f.size() + 1;  // too many fields
        break;
      }
      f[nf++] = payload.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    PredictionRecord r;
    std::string_view origin_text;
    bool ok = nf == f.size() && parse_i64(f[0], r.ts) && parse_f64(f[2], r.prediction) &&
              parse_i64(f[6], r.emitted_at);
    const std::string** strs[4] = {&r.symbol, &r.dag_name, &r.frame, &r.column};
    const size_t idx[4] = {1, 3, 4, 5};
    for (int i = 0; ok && i < 4; ++i) {
      ok = unescape(f[idx[i]], field);
      if (ok) *strs[i] = intern(field);
    }
    if (ok) {
      origin_text = f[7];
      bool found = false;
      for (BarOrigin o : {BarOrigin::kArchive, BarOrigin::kRest, BarOrigin::kStream, BarOrigin::kDerived}) {
        if (origin_text == bar_origin_name(o)) {
          r.origin = o;
          found = true;
        }
      }
      ok = found;
    }
    if (!ok) {
      corrupt("malformed spool record");
      continue;
    }
    out.push_back(r);
  }
  return {};
}

Status Spool::commit() {
  std::lock_guard lock(mu_);
  if (read_lines_ == 0) return {};
  pending_ -= read_lines_;
  committed_line_ += read_lines_;
  committed_offset_ = read_end_offset_;
  read_lines_ = 0;
  if (pending_ == 0) {
    if (::ftruncate(fd_, 0) != 0) return make_error(path_ + ": cannot truncate spool: " + errno_text(errno), true);
    committed_offset_ = committed_line_ = 0;
    size_ = 0;
  }
  read_end_offset_ = committed_offset_;
  return write_offset_locked();
}

Status Spool::write_offset_locked() {
  char rec[kOffsetRecordSize + 1];
  std::snprintf(rec, sizeof rec, "%020llu %020llu\n", static_cast<unsigned long long>(committed_offset_),
                static_cast<unsigned long long>(committed_line_));
  if (::pwrite(offset_fd_, rec, kOffsetRecordSize, 0) != static_cast<ssize_t>(kOffsetRecordSize))
    return make_error(path_ + ".offset: write failed: " + errno_text(errno), true);
  return {};
}

uint64_t Spool::pending() const {
  std::lock_guard lock(mu_);
  return pending_;
}

uint64_t Spool::bytes() const {
  std::lock_guard lock(mu_);
  return size_;
}

bool Spool::full() const {
  std::lock_guard lock(mu_);
  return full_;
}

uint64_t Spool::corrupt() const {
  std::lock_guard lock(mu_);
  return corrupt_;
}

}  // namespace af
