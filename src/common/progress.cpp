#include "common/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace af {

double ProgressSample::fraction() const {
  if (expected == 0) return 0;
  return std::min(1.0, static_cast<double>(done) / static_cast<double>(expected));
}

double ProgressSample::rate_per_s() const {
  if (elapsed_ms <= 0) return 0;
  return static_cast<double>(done) * 1000.0 / static_cast<double>(elapsed_ms);
}

double ProgressSample::eta_s() const {
  const double rate = rate_per_s();
  if (expected == 0 || rate <= 0) return -1;
  if (done >= expected) return 0;
  return static_cast<double>(expected - done) / rate;
}

std::string format_clock(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "?";
  // Past 99999 hours (11 years) a number says nothing more.
  const auto total = static_cast<int64_t>(std::min(seconds, 99999.0 * 3600) + 0.5);
  const int64_t h = total / 3600, m = (total % 3600) / 60, s = total % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{}:{:02}", m, s);
}

std::string format_count(double n) {
  if (!std::isfinite(n) || n < 0) return "?";
  if (n < 1000) return fmt::format("{:.0f}", n);
  static const char* kSuffix[] = {"k", "M", "G", "T"};
  int i = -1;
  while (n >= 1000 && i < 3) {
    n /= 1000;
    ++i;
  }
  const char* fmt_text = n >= 100 ? "{:.0f}{}" : n >= 10 ? "{:.1f}{}" : "{:.2f}{}";
  return fmt::format(fmt::runtime(fmt_text), n, kSuffix[i]);
}

std::string format_warmup_progress(const ProgressSample& s) {
  std::string out = fmt::format("warmup progress: bars={}", s.done);
  if (s.expected > 0) out.append(fmt::format("/{} ({:.1f}%)", s.expected, 100.0 * s.fraction()));
  out.append(fmt::format(" rate={} bars/s eta={}", format_count(s.rate_per_s()), format_clock(s.eta_s())));
  return out;
}

std::string format_progress_bar(const ProgressSample& s, std::string_view label, std::string_view position,
                                int width) {
  // Built by appending: g++ 12 at -O3 warns falsely (-Wrestrict) on chains of `+`.
  std::string out(label);
  if (s.expected > 0) {
    const int cells = std::max(1, width);
    const int full = static_cast<int>(s.fraction() * cells);
    out.append(" [");
    out.append(static_cast<size_t>(full), '#');
    out.append(static_cast<size_t>(cells - full), '.');
    out.append("]");
    out.append(fmt::format(" {:3.0f}%", std::floor(100.0 * s.fraction())));
  }
  if (!position.empty()) {
    out.push_back(' ');
    out.append(position);
  }
  out.append(fmt::format(" {} bars {} bars/s", format_count(static_cast<double>(s.done)), format_count(s.rate_per_s())));
  if (s.expected > 0) out.append(fmt::format(" ETA {}", format_clock(s.eta_s())));
  return out;
}

bool ProgressThrottle::due(int64_t now_ms) {
  if (started_ && now_ms - last_ms_ < every_ms_) return false;
  started_ = true;
  last_ms_ = now_ms;
  return true;
}

}  // namespace af
