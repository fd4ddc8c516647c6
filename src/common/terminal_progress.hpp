#pragma once
// A progress line on a terminal: redrawn in place ("\r", the line cleared) at
// most every `redraw_ms`, and erased by finish() so that what follows starts on a
// clean line. Disabled (nothing is ever written) when the stream is not a
// terminal, so that logs and pipes never receive carriage returns. The clock is
// injected (tests drive it). Owned and used by one thread (replay's).

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "common/progress.hpp"

namespace af {

class TerminalProgress {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic
  // `enabled`: usually isatty(fileno(out)).
  TerminalProgress(std::FILE* out, bool enabled, Clock clock, int64_t redraw_ms = 250);
  ~TerminalProgress();
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  bool enabled() const { return enabled_; }
  // Draws `line` if a redraw is due (the first call always is).
  void update(const std::function<std::string()>& line);
  // Erases the line, if one was drawn. Idempotent; the destructor calls it.
  void finish();

 private:
  std::FILE* out_;
  bool enabled_;
  Clock clock_;
  ProgressThrottle throttle_;
  bool drawn_ = false;
};

// A monotonic clock in milliseconds, for TerminalProgress and progress logs.
int64_t steady_now_ms();

}  // namespace af
