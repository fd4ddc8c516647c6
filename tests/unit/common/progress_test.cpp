// Progress formatting and rate limiting, with the clock driven by the test.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/progress.hpp"
#include "common/terminal_progress.hpp"

namespace af {
namespace {

TEST(ProgressTest, RateFractionAndEta) {
  ProgressSample s{1200, 5000, 400};
  EXPECT_DOUBLE_EQ(s.fraction(), 0.24);
  EXPECT_DOUBLE_EQ(s.rate_per_s(), 3000);
  EXPECT_NEAR(s.eta_s(), 3800.0 / 3000, 1e-9);
  EXPECT_EQ(format_warmup_progress(s), "warmup progress: bars=1200/5000 (24.0%) rate=3.00k bars/s eta=0:01");
  EXPECT_EQ(format_warmup_progress({0, 5000, 0}), "warmup progress: bars=0/5000 (0.0%) rate=0 bars/s eta=?");
  EXPECT_EQ(format_warmup_progress({7, 0, 1000}), "warmup progress: bars=7 rate=7 bars/s eta=?") << "unknown total";
  // More than expected (gaps filled, a late total): capped, done.
  EXPECT_DOUBLE_EQ((ProgressSample{6000, 5000, 1000}.fraction()), 1.0);
  EXPECT_DOUBLE_EQ((ProgressSample{6000, 5000, 1000}.eta_s()), 0.0);
}

TEST(ProgressTest, ClockAndCountFormats) {
  EXPECT_EQ(format_clock(0), "0:00");
  EXPECT_EQ(format_clock(7.4), "0:07");
  EXPECT_EQ(format_clock(723), "12:03");
  EXPECT_EQ(format_clock(3723), "1:02:03");
  EXPECT_EQ(format_clock(-1), "?");
  EXPECT_EQ(format_clock(1e300), "99999:00:00");
  EXPECT_EQ(format_count(950), "950");
  EXPECT_EQ(format_count(12345), "12.3k");
  EXPECT_EQ(format_count(4'560'000), "4.56M");
  EXPECT_EQ(format_count(850'000), "850k");
}

TEST(ProgressTest, BarLine) {
  EXPECT_EQ(format_progress_bar({310, 1000, 1000}, "replay", "2024-04/2024-12", 10),
            "replay [###.......]  31% 2024-04/2024-12 310 bars 310 bars/s ETA 0:02");
  EXPECT_EQ(format_progress_bar({1000, 1000, 2000}, "replay", "", 4), "replay [####] 100% 1.00k bars 500 bars/s ETA 0:00");
  EXPECT_EQ(format_progress_bar({5, 0, 1000}, "replay", "", 4), "replay 5 bars 5 bars/s") << "unknown total: no bar";
}

TEST(ProgressTest, ThrottleIsDueFirstThenOncePerPeriod) {
  ProgressThrottle t(5000);
  EXPECT_TRUE(t.due(100));
  EXPECT_FALSE(t.due(100));
  EXPECT_FALSE(t.due(5099));
  EXPECT_TRUE(t.due(5100));
  EXPECT_FALSE(t.due(10'000));
  EXPECT_TRUE(t.due(20'000)) << "a long pause: due at once, not a burst";
  EXPECT_FALSE(t.due(20'001));
}

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(TerminalProgressTest, RedrawsAtMostEveryPeriodAndClearsAtTheEnd) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  int64_t now = 1000;
  int formatted = 0;
  {
    TerminalProgress p(f, true, [&] { return now; }, 250);
    auto line = [&](int i) {
      return [&formatted, i] {
        ++formatted;
        return "step " + std::to_string(i);
      };
    };
    for (int i = 0; i < 100; ++i) {
      p.update(line(i));
      now += 10;  // 100 updates over one second
    }
    p.finish();
    p.finish();
  }
  const std::string out = contents(f);
  // At 1000, 1250, 1500, 1750 ms: four redraws, each formatted only when drawn.
  EXPECT_EQ(out, "\r\033[Kstep 0\r\033[Kstep 25\r\033[Kstep 50\r\033[Kstep 75\r\033[K");
  EXPECT_EQ(formatted, 4);
  std::fclose(f);
}

TEST(TerminalProgressTest, NotATerminalWritesNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  int64_t now = 0;
  {
    TerminalProgress p(f, false, [&] { return now; });
    for (int i = 0; i < 10; ++i, now += 1000) p.update([] { return std::string("x"); });
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace af
