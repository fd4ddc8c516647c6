#include "common/terminal_progress.hpp"

#include <chrono>

namespace af {

namespace {
// Back to the start of the line, then erase to its end (ANSI EL).
constexpr const char* kClearLine = "\r\033[K";
}  // namespace

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TerminalProgress::TerminalProgress(std::FILE* out, bool enabled, Clock clock, int64_t redraw_ms)
    : out_(out), enabled_(enabled && out != nullptr), clock_(std::move(clock)), throttle_(redraw_ms) {}

TerminalProgress::~TerminalProgress() { finish(); }

void TerminalProgress::update(const std::function<std::string()>& line) {
  if (!enabled_ || !throttle_.due(clock_())) return;
  const std::string text = line();  // formatted only when drawn
  std::fputs(kClearLine, out_);
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
  drawn_ = true;
}

void TerminalProgress::finish() {
  if (!drawn_) return;
  std::fputs(kClearLine, out_);
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace af
