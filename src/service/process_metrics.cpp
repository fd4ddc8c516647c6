#include "service/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/process_memory.hpp"

namespace af::service {
namespace {

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  return in ? std::string(std::istreambuf_iterator<char>(in), {}) : std::string();
}

// The fields of /proc/self/stat after the command name, which is in parentheses and
// may itself hold spaces and ')': fields[0] is the state (field 3 in proc(5)).
std::vector<std::string> stat_fields_after_comm() {
  const std::string stat = read_small_file("/proc/self/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(stat.substr(close + 1));
  return {std::istream_iterator<std::string>(rest), {}};
}

bool parse_u64(const std::string& s, unsigned long long& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Seconds since the epoch at which the system booted: /proc/stat's `btime`.
double boot_time_seconds() {
  std::istringstream in(read_small_file("/proc/stat"));
  std::string key;
  unsigned long long value = 0;
  while (in >> key) {
    if (key == "btime") return in >> value ? static_cast<double>(value) : -1;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return -1;
}

}  // namespace

ProcessSample read_process_sample() {
  ProcessSample s;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const auto f = stat_fields_after_comm();
  // proc(5): utime 14, stime 15, starttime 22, vsize 23 (1-based, the name being 2).
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStartTime = 22 - 3, kVsize = 23 - 3;
  unsigned long long utime = 0, stime = 0, start_ticks = 0, vsize = 0;
  if (ticks > 0 && f.size() > kVsize) {
    if (parse_u64(f[kUtime], utime) && parse_u64(f[kStime], stime)) {
      s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
    }
    const double boot = boot_time_seconds();
    if (boot >= 0 && parse_u64(f[kStartTime], start_ticks)) {
      s.start_time_seconds = boot + static_cast<double>(start_ticks) / static_cast<double>(ticks);
    }
    if (parse_u64(f[kVsize], vsize)) s.virtual_memory_bytes = static_cast<double>(vsize);
  }
  if (const int64_t rss = current_rss_bytes(); rss >= 0) s.resident_memory_bytes = static_cast<double>(rss);

  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (!ec) {
    // The iterator's own descriptor is among those listed; leave it out.
    double n = -1;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      n += 1;
    }
    if (!ec) s.open_fds = n;
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    s.max_fds = static_cast<double>(limit.rlim_cur);
  }
  return s;
}

void append_process_metrics(PrometheusText& t, const ProcessSample& s) {
  if (s.cpu_seconds >= 0) {
    t.counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds", s.cpu_seconds);
  }
  if (s.start_time_seconds >= 0) {
    t.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds",
            s.start_time_seconds);
  }
  if (s.resident_memory_bytes >= 0) {
    t.gauge("process_resident_memory_bytes", "Resident memory size, in bytes", s.resident_memory_bytes);
  }
  if (s.virtual_memory_bytes >= 0) {
    t.gauge("process_virtual_memory_bytes", "Virtual memory size, in bytes", s.virtual_memory_bytes);
  }
  if (s.open_fds >= 0) t.gauge("process_open_fds", "Open file descriptors", s.open_fds);
  if (s.max_fds >= 0) t.gauge("process_max_fds", "The soft limit on open file descriptors", s.max_fds);
}

}  // namespace af::service
