#include "service/process_metrics.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
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

double process_cpu_clock() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Against the kernel's own CPU clock of this process: seconds, user + system. Spins
// for CPU time, not wall time, so a loaded machine does not change the amount.
TEST(ProcessMetrics, CpuSecondsGrowWithWork) {
  const double before = read_process_sample().cpu_seconds;
  ASSERT_GE(before, 0);
  const double start = process_cpu_clock();
  volatile uint64_t spin = 0;
  while (process_cpu_clock() - start < 0.3) spin = spin + 1;
  const double after = read_process_sample().cpu_seconds;
  // /proc counts in clock ticks (10 ms): a few of them either way.
  EXPECT_GE(after - before, 0.25) << "before=" << before << " after=" << after;
  EXPECT_LE(after - before, 0.35) << "before=" << before << " after=" << after;
  EXPECT_NEAR(after, process_cpu_clock(), 0.05);
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
