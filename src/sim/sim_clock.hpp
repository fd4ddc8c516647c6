#pragma once
// SimClock: simulated time as a linear map of wall time: sim = start + speed *
// (wall elapsed since the clock was started). Bars are published as it passes
// their close. A value type, immutable once started; safe to read from any thread.

#include <chrono>
#include <cmath>
#include <cstdint>

namespace af::sim {

class SimClock {
 public:
  SimClock() = default;
  SimClock(int64_t sim_start_ms, double speed)
      : sim_start_(sim_start_ms), speed_(speed), wall_start_(std::chrono::steady_clock::now()) {}

  int64_t now_ms() const { return sim_start_ + static_cast<int64_t>(std::floor(wall_elapsed_ms() * speed_)); }
  int64_t start_ms() const { return sim_start_; }
  double speed() const { return speed_; }
  // Wall ms elapsed since the clock started (fractional).
  double wall_elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start_).count();
  }
  // Wall ms that `sim_ms` of simulated time take.
  double wall_ms_for(double sim_ms) const { return sim_ms / speed_; }

 private:
  int64_t sim_start_ = 0;
  double speed_ = 1;
  std::chrono::steady_clock::time_point wall_start_{};
};

}  // namespace af::sim
