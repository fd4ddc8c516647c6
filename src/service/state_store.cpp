#include "service/state_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/fnv1a.hpp"
#include "common/read_whole_file.hpp"
#include "common/state_archive.hpp"
#include "dag/plan_format.hpp"
#include "common/sync_directory.hpp"

namespace af::service {
namespace {

// Version 2: the engine's state keyed by symbol name (runtime/engine_state.hpp),
// so a snapshot loads whatever `--threads` wrote or reads it; the body's checksum
// is the standard FNV-1a 64. A version-1 file is refused ("not a snapshot of
// this version") and the service warms up afresh.
constexpr std::string_view kMagic = "AFSNAP02";

// The plan fingerprint's hash. Its offset basis is not FNV-1a's standard one,
// but the value is part of what earlier runs wrote (CSV sinks' `.plan` sidecars
// hold predictions_fingerprint), so it stays as it is: changing it would make
// every existing output file refuse the pipeline that wrote it.
uint64_t plan_hash(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string errno_text() { return std::strerror(errno); }

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(path + ": write failed: " + errno_text());
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

uint64_t StateStore::fingerprint(const dag::Plan& plan) {
  dag::Plan content = plan;
  content.file.clear();
  return plan_hash(dag::format_plan(content));
}

uint64_t StateStore::predictions_fingerprint(const dag::Plan& plan) {
  dag::Plan computed = plan;
  computed.sinks.clear();
  computed.plugin_paths.clear();
  return fingerprint(computed);
}

Result<StateStore> StateStore::open(const std::string& dir, const dag::Plan& plan) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return make_error("--state-dir " + dir + ": cannot create the directory: " + (ec ? ec.message() : "not a directory"));
  }
  return StateStore(dir, fingerprint(plan));
}

Status StateStore::save(const Snapshot& snapshot) const {
  StateWriter w;
  w.put<uint64_t>(fingerprint_);
  w.put<int64_t>(snapshot.anchor);
  w.put<int64_t>(snapshot.written_at);
  w.put_string(snapshot.engine_state);
  std::string body = w.take();
  std::string file(kMagic);
  StateWriter tail;
  tail.put<uint64_t>(body.size());
  file += tail.bytes();
  file += body;
  StateWriter sum;
  sum.put<uint64_t>(fnv1a_64(body));  // detects a torn or damaged file; not a defence against tampering
  file += sum.bytes();

  const std::string path = snapshot_path();
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(tmp + ": cannot create: " + errno_text());
  Status st = write_all(fd, file, tmp);
  if (st && ::fsync(fd) != 0) st = make_error(tmp + ": fsync failed: " + errno_text());
  if (::close(fd) != 0 && st) st = make_error(tmp + ": close failed: " + errno_text());
  if (!st) {
    ::unlink(tmp.c_str());  // a partial file would only take room the next attempt needs
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    st = make_error(path + ": rename failed: " + errno_text());
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename itself must reach the disk before the snapshot counts.
  if (Status d = sync_directory(dir_); !d) return make_error(path + ": renamed, but " + d.error().message);
  return {};
}

Result<std::optional<Snapshot>> StateStore::load() const {
  const std::string path = snapshot_path();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<Snapshot>{};
  auto read = read_whole_file(path);
  if (!read) return read.error();
  const std::string file = std::move(read).value();
  if (file.size() < kMagic.size() + 16 || std::string_view(file).substr(0, kMagic.size()) != kMagic)
    return make_error(path + ": not a snapshot of this version (bad header)");
  StateReader head(std::string_view(file).substr(kMagic.size(), 8));
  const auto body_size = head.get<uint64_t>();
  if (file.size() != kMagic.size() + 8 + body_size + 8) return make_error(path + ": truncated");
  const std::string_view body = std::string_view(file).substr(kMagic.size() + 8, body_size);
  StateReader sum(std::string_view(file).substr(kMagic.size() + 8 + body_size));
  if (sum.get<uint64_t>() != fnv1a_64(body)) return make_error(path + ": checksum mismatch (damaged)");
  StateReader r(body);
  if (r.get<uint64_t>() != fingerprint_)
    return make_error(path + ": made by a different pipeline (steps, params or universe changed)");
  Snapshot s;
  s.anchor = r.get<int64_t>();
  s.written_at = r.get<int64_t>();
  s.engine_state = r.get_string();
  if (r.failed()) return make_error(path + ": truncated");
  return std::optional<Snapshot>(std::move(s));
}

}  // namespace af::service
