#include <gtest/gtest.h>

#include "common/did_you_mean.hpp"

namespace af {
namespace {

TEST(DidYouMean, EditDistanceCountsSwapsAsOne) {
  EXPECT_EQ(edit_distance("close", "close"), 0u);
  EXPECT_EQ(edit_distance("clse", "close"), 1u);
  EXPECT_EQ(edit_distance("clsoe", "close"), 1u);
  EXPECT_EQ(edit_distance("tahn", "tanh"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(DidYouMean, SuggestsOnlyPlausibleTypos) {
  const std::vector<std::string> names{"features.momentum", "features.rsi", "features.ma_rocp"};
  EXPECT_EQ(did_you_mean("features.momentun", names), " (did you mean 'features.momentum'?)");
  EXPECT_EQ(did_you_mean("features.rsl", names), " (did you mean 'features.rsi'?)");
  EXPECT_EQ(did_you_mean("something_else", names), "");
}

}  // namespace
}  // namespace af
