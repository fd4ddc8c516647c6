#pragma once
// Memory of this process as the kernel reports it (Linux /proc), for the live
// service's "RSS every 100 events" log line and its RSS gauges, and for benchmarks.
//
// Header-only on purpose: common's CMakeLists lists its sources one by one, and these
// two small functions do not justify editing it. Thread-safe (each call reads /proc
// afresh); a few microseconds per call, so not for a per-event hot path.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace af {

// Resident set size now, in bytes: /proc/self/statm's second field times the page
// size. -1 when /proc is unreadable (not Linux, or a sandbox without /proc).
inline int64_t current_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long long size_pages = 0;
  long long resident_pages = 0;
  const int n = std::fscanf(f, "%lld %lld", &size_pages, &resident_pages);
  std::fclose(f);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (n != 2 || page <= 0) return -1;
  return static_cast<int64_t>(resident_pages) * page;
}

// Peak resident set size since the process started, in bytes: VmHWM from
// /proc/self/status (written in kB). -1 when unreadable.
inline int64_t peak_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t result = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) {
      long long kb = 0;
      if (std::sscanf(line + 6, "%lld", &kb) == 1) result = static_cast<int64_t>(kb) * 1024;
      break;
    }
  }
  std::fclose(f);
  return result;
}

}  // namespace af
