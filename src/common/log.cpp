#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

#include "common/time.hpp"

namespace af {
namespace {

std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;

spdlog::sink_ptr shared_sink() {
  static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto l = std::make_shared<spdlog::logger>(name, shared_sink());
  l->set_level(g_level);
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v", spdlog::pattern_time_type::utc);
  spdlog::register_logger(l);
  return l;
}

void set_log_level(const std::string& level) {
  std::lock_guard lock(g_mutex);
  g_level = spdlog::level::from_str(level);
  spdlog::set_level(g_level);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
}

bool RateLimiter::allow(uint64_t& suppressed) {
  const int64_t now = now_ms();
  int64_t start = window_start_.load(std::memory_order_relaxed);
  if (now - start >= window_ms_ && window_start_.compare_exchange_strong(start, now)) {
    in_window_.store(0, std::memory_order_relaxed);
  }
  if (in_window_.fetch_add(1, std::memory_order_relaxed) < per_window_) {
    suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
    return true;
  }
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace af
