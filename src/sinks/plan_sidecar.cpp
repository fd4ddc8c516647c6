#include "sinks/plan_sidecar.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace af::sinks {
namespace {

constexpr const char* kComment =
    "# alpha_forge: the pipelines (plan fingerprint, name) whose predictions the file beside this one holds\n";
constexpr size_t kFingerprintDigits = 16;
constexpr size_t kMaxLines = 10'000;  // a file shared by this many pipelines is not a case to support

bool is_fingerprint(const std::string& s) {
  if (s.size() != kFingerprintDigits) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string plan_sidecar_path(const std::string& file) { return file + ".plan"; }

Result<std::vector<PlanEntry>> read_plan_sidecar(const std::string& file) {
  const std::string path = plan_sidecar_path(file);
  std::vector<PlanEntry> entries;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return entries;
  std::ifstream in(path);
  if (!in) return make_error(path + ": cannot read: " + (ec ? ec.message() : errno_text()));
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    if (++line_no > kMaxLines) return make_error(path + ": more than " + std::to_string(kMaxLines) + " lines");
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    PlanEntry e;
    if (space != std::string::npos) {
      e.fingerprint = line.substr(0, space);
      e.pipeline = line.substr(space + 1);
    }
    if (!is_fingerprint(e.fingerprint) || e.pipeline.empty())
      return make_error(path + ":" + std::to_string(line_no) + ": expected '<16 hex digits> <pipeline name>', got '" +
                        line + "'");
    entries.push_back(std::move(e));
  }
  if (in.bad()) return make_error(path + ": cannot read: " + errno_text());
  return entries;
}

Status write_plan_sidecar(const std::string& file, const std::vector<PlanEntry>& entries) {
  const std::string path = plan_sidecar_path(file);
  const std::string tmp = path + ".tmp";
  std::string text = kComment;
  for (const auto& e : entries) text += e.fingerprint + ' ' + e.pipeline + '\n';
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(tmp + ": cannot create: " + errno_text());
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      ::close(fd);
      return make_error(tmp + ": write failed: " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    return make_error(tmp + ": fsync failed: " + why);
  }
  if (::close(fd) != 0) return make_error(tmp + ": close failed: " + errno_text());
  if (::rename(tmp.c_str(), path.c_str()) != 0) return make_error(path + ": cannot replace: " + errno_text());
  return {};
}

}  // namespace af::sinks
