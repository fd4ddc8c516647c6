#pragma once
// Logging: spdlog, one named logger per module ("runtime", "sources.replay", ...),
// stable key=value fields. Library code logs; it never prints to stdout.

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace af {

// The logger for a module, created on first use (stderr sink shared by all).
std::shared_ptr<spdlog::logger> logger(const std::string& name);

// Sets the level of every logger, existing and future ("trace" ... "off").
void set_log_level(const std::string& level);

// Allows at most `per_window` events per `window_ms` of wall time; used to keep a
// per-message log line (a malformed frame, a revised bar) from flooding the log.
// Thread-safe; suppressed events are counted and reported by the next allowed one.
class RateLimiter {
 public:
  RateLimiter(int per_window, int64_t window_ms) : per_window_(per_window), window_ms_(window_ms) {}
  // True when this event may be logged; `suppressed` receives how many were
  // dropped since the last allowed event.
  bool allow(uint64_t& suppressed);

 private:
  const int per_window_;
  const int64_t window_ms_;
  std::atomic<int64_t> window_start_{0};
  std::atomic<int> in_window_{0};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace af
