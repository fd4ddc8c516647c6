#include "sim/fault_spec.hpp"

#include <gtest/gtest.h>

namespace af::sim {
namespace {

TEST(FaultSpec, ParsesRatesAndSeed) {
  auto f = parse_fault_spec("disconnect=0.02, stall=0.01,duplicate=0.05,late_close=0.05,missing_close=0.02,"
                            "reorder=0.02,rest_429=0.05,rest_418=0.01,corrupt_archive=0.1,seed=7");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_DOUBLE_EQ(f->disconnect, 0.02);
  EXPECT_DOUBLE_EQ(f->stall, 0.01);
  EXPECT_DOUBLE_EQ(f->duplicate, 0.05);
  EXPECT_DOUBLE_EQ(f->late_close, 0.05);
  EXPECT_DOUBLE_EQ(f->missing_close, 0.02);
  EXPECT_DOUBLE_EQ(f->reorder, 0.02);
  EXPECT_DOUBLE_EQ(f->rest_429, 0.05);
  EXPECT_DOUBLE_EQ(f->rest_418, 0.01);
  EXPECT_DOUBLE_EQ(f->corrupt_archive, 0.1);
  EXPECT_EQ(f->seed, 7u);
  auto again = parse_fault_spec(f->text());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->text(), f->text());
}

TEST(FaultSpec, AllAndOverrides) {
  auto f = parse_fault_spec("all,disconnect=0");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->disconnect, 0);
  EXPECT_GT(f->stall, 0);
  EXPECT_GT(f->duplicate, 0);
  EXPECT_GT(f->rest_429, 0);
  EXPECT_GT(f->corrupt_archive, 0);
  EXPECT_GT(f->huge_zip, 0);
  EXPECT_EQ(f->stall_archive, 0) << "a stalled download holds a client for its whole read timeout";
  auto archive = parse_fault_spec("huge_zip=1,stall_archive=0.5");
  ASSERT_TRUE(archive) << archive.error().message;
  EXPECT_EQ(archive->huge_zip, 1);
  EXPECT_EQ(archive->stall_archive, 0.5);
  EXPECT_EQ(archive->text(), "huge_zip=1,stall_archive=0.5,seed=1");
  auto none = parse_fault_spec("none");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->any_ws());
  EXPECT_EQ(none->rest_429, 0);
}

TEST(FaultSpec, ErrorsNameTheItem) {
  auto f = parse_fault_spec("duplicat=0.1");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "--faults: unknown fault 'duplicat' (did you mean 'duplicate'?)");
  auto g = parse_fault_spec("stall=1.5");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().message, "--faults: stall='1.5' is not a probability in [0, 1]");
  auto h = parse_fault_spec("seed=x");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message, "--faults: seed 'x' is not an unsigned integer");
  EXPECT_FALSE(parse_fault_spec("stall"));
}

TEST(FaultRng, DeterministicPerSeedAndStream) {
  FaultRng a(7, 3), b(7, 3), c(8, 3), d(7, 4);
  int same_c = 0, same_d = 0;
  for (int i = 0; i < 64; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    same_c += x == c.next();
    same_d += x == d.next();
  }
  EXPECT_EQ(same_c, 0);
  EXPECT_EQ(same_d, 0);
  // hit(p) fires at about rate p.
  FaultRng r(1, 1);
  int hits = 0;
  for (int i = 0; i < 20000; ++i) hits += r.hit(0.1);
  EXPECT_NEAR(hits / 20000.0, 0.1, 0.01);
  EXPECT_FALSE(r.hit(0));
}

}  // namespace
}  // namespace af::sim
