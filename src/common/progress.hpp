#pragma once
// Progress of long work (the live service's warmup, a replay) for people: how
// much is done of how much is expected, the rate, and the time left. The rate is
// the average since the start (steadier than a window for work that runs at one
// speed), the ETA what is left at that rate. Time is passed in, never read here,
// so that tests drive it. Pure functions and a small value type; any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace af {

struct ProgressSample {
  uint64_t done = 0;
  uint64_t expected = 0;   // 0: unknown (no fraction, no ETA)
  int64_t elapsed_ms = 0;  // since the work started
  double fraction() const;  // done / expected in [0, 1]; 0 when unknown
  double rate_per_s() const;  // done per second so far; 0 before any time passed
  // Seconds left at the rate so far; negative when unknown (no rate, no expected).
  double eta_s() const;
};

// "0:07", "12:03", "1:02:03"; "?" for a negative (unknown) time.
std::string format_clock(double seconds);
// "950", "12.3k", "4.56M": a count or a rate, three significant digits.
std::string format_count(double n);

// The warmup's log line: "warmup progress: bars=1200/5000 (24.0%) rate=3.00k bars/s eta=0:01".
std::string format_warmup_progress(const ProgressSample& s);

// One line of a terminal progress bar of `width` cells:
// "replay [#########.............]  31% 2024-04 of 2024-01..2024-12 1.23M bars 850k bars/s ETA 0:12".
// `position` says where the work is ("2024-04 of 2024-01..2024-12"), may be empty.
std::string format_progress_bar(const ProgressSample& s, std::string_view label, std::string_view position,
                                int width);

// Says when progress is due: the first call, then once every `every_ms`. The
// caller passes its clock's reading.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(int64_t every_ms) : every_ms_(every_ms) {}
  bool due(int64_t now_ms);

 private:
  int64_t every_ms_;
  int64_t last_ms_ = 0;
  bool started_ = false;
};

}  // namespace af
