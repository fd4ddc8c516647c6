#include <gtest/gtest.h>

#include "nats/subject.hpp"

namespace af::nats {
namespace {

TEST(Subject, Coverage) {
  EXPECT_TRUE(subject_covers("af.bars.>", "af.bars.>"));
  EXPECT_TRUE(subject_covers("af.bars.>", "af.bars.binance_futures.1h.BTCUSDT"));
  EXPECT_TRUE(subject_covers("af.bars.>", "af.bars.binance_futures.1h.*"));
  EXPECT_TRUE(subject_covers("af.*.>", "af.bars.>"));
  EXPECT_TRUE(subject_covers("af.bars.*.*.*", "af.bars.x.1h.*"));
  EXPECT_TRUE(subject_covers(">", "anything.at.all"));
  EXPECT_FALSE(subject_covers("af.bars.>", "af.bars"));
  EXPECT_FALSE(subject_covers("af.bars.*.*.*", "af.bars.>"));  // '>' reaches deeper than three tokens
  EXPECT_FALSE(subject_covers("af.bars.x.*.*", "af.bars.y.1h.BTC"));
  EXPECT_FALSE(subject_covers("af.bars.x.1h.BTC", "af.bars.x.1h.*"));
  EXPECT_FALSE(subject_covers("other.>", "af.bars.>"));
  EXPECT_FALSE(subject_covers("af.bars.*", "af.bars.x.1h"));
}

TEST(Subject, TokenProblems) {
  EXPECT_EQ(subject_token_problem("binance_futures"), "");
  EXPECT_EQ(subject_token_problem(""), "is empty");
  EXPECT_EQ(subject_token_problem("a.b"), "contains '.'");
  EXPECT_EQ(subject_token_problem("a*"), "contains the wildcard '*'");
  EXPECT_EQ(subject_token_problem("a b"), "contains a space or control character");
}

}  // namespace
}  // namespace af::nats
