#include "service/process_metrics.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace af::service {
namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(ProcessMetrics, StartTimeIsThisProcesssInUnixSeconds) {
  const ProcessSample s = read_process_sample();
  // The test binary started moments ago; /proc counts in clock ticks (10 ms) and
  // btime in whole seconds, so allow a couple of seconds of rounding.
  const double now = unix_now();
  EXPECT_LE(s.start_time_seconds, now + 2);
  EXPECT_GT(s.start_time_seconds, now - 600) << "not Unix seconds, or not this process";
  // Another reading of the same moment agrees.
  EXPECT_DOUBLE_EQ(read_process_sample().start_time_seconds, s.start_time_seconds);
}

TEST(ProcessMetrics, CpuSecondsGrowWithWork) {
  const double before = read_process_sample().cpu_seconds;
  ASSERT_GE(before, 0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  volatile uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  const double after = read_process_sample().cpu_seconds;
  EXPECT_GE(after - before, 0.2) << "before=" << before << " after=" << after;
  EXPECT_LT(after - before, 5);  // seconds, not clock ticks
}

TEST(ProcessMetrics, OpenFdsCountsDescriptorsAndMaxIsTheSoftLimit) {
  const double before = read_process_sample().open_fds;
  ASSERT_GE(before, 3);  // stdin, stdout, stderr
  const int a = ::open("/dev/null", O_RDONLY);
  const int b = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(read_process_sample().open_fds, before + 2);
  ::close(a);
  ::close(b);
  EXPECT_EQ(read_process_sample().open_fds, before);

  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur != RLIM_INFINITY) {
    EXPECT_EQ(read_process_sample().max_fds, static_cast<double>(limit.rlim_cur));
  }
}

TEST(ProcessMetrics, MemoryInBytes) {
  const ProcessSample s = read_process_sample();
  EXPECT_GT(s.resident_memory_bytes, 1 << 20);
  EXPECT_GE(s.virtual_memory_bytes, s.resident_memory_bytes);
}

TEST(ProcessMetrics, StandardNamesAndUnreadableValuesLeftOut) {
  ProcessSample s;
  s.cpu_seconds = 12.5;
  s.start_time_seconds = 1767225600.25;
  s.resident_memory_bytes = 104857600;
  s.open_fds = 17;
  PrometheusText t;
  append_process_metrics(t, s);
  EXPECT_EQ(t.str(),
            "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 12.5\n"
            "# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds\n"
            "# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds 1767225600.25\n"
            "# HELP process_resident_memory_bytes Resident memory size, in bytes\n"
            "# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes 104857600\n"
            "# HELP process_open_fds Open file descriptors\n"
            "# TYPE process_open_fds gauge\n"
            "process_open_fds 17\n");
}

}  // namespace
}  // namespace af::service
