#include "common/process_memory.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

namespace af {
namespace {

TEST(ProcessMemory, RssGrowsWhenPagesAreTouched) {
  const int64_t before = current_rss_bytes();
  ASSERT_GT(before, 0) << "/proc/self/statm unreadable";
  constexpr size_t kBytes = 64u << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);  // fresh mmap'd pages, not resident yet
  for (size_t i = 0; i < kBytes; i += 4096) block[i] = static_cast<char>(i / 4096 % 251 + 1);
  uint64_t check = 0;
  for (size_t i = 0; i < kBytes; i += 4096) check += static_cast<unsigned char>(block[i]);
  EXPECT_GT(check, 0u);  // the writes are observed, so the compiler keeps them

  const int64_t after = current_rss_bytes();
  EXPECT_GE(after - before, int64_t{60} << 20) << "before=" << before << " after=" << after;
  const int64_t peak = peak_rss_bytes();
  EXPECT_GE(peak, after);
}

}  // namespace
}  // namespace af
