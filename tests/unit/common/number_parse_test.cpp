// Range-checked integers from configuration text (issue 12 item 13): every
// failure is an error with the text quoted, never an exception or a wrap-around.

#include <gtest/gtest.h>

#include "common/number_parse.hpp"

namespace af {
namespace {

TEST(ParseIntInRange, AcceptsWholeNumbersWithinTheRange) {
  EXPECT_EQ(parse_int_in_range("8123", 1, 65535).value(), 8123);
  EXPECT_EQ(parse_int_in_range("1", 1, 65535).value(), 1);
  EXPECT_EQ(parse_int_in_range("65535", 1, 65535).value(), 65535);
  EXPECT_EQ(parse_int_in_range("-5", -10, 10).value(), -5);
}

TEST(ParseIntInRange, RefusesWhatIsNotAWholeNumber) {
  for (const char* bad : {"", "8a", "a8", " 80", "80 ", "+80", "8.0", "0x50", "-"}) {
    auto r = parse_int_in_range(bad, 1, 65535);
    ASSERT_FALSE(r.ok()) << bad;
    std::string expected = "'";  // appended: g++ 12 -O3 warns falsely on "'" + std::string
    expected += bad;
    expected += "' is not a whole number";
    EXPECT_EQ(r.error().message, expected);
  }
}

TEST(ParseIntInRange, RefusesOutOfRangeIncludingBeyondInt64) {
  EXPECT_EQ(parse_int_in_range("99999999999999999999", 1, 65535).error().message,
            "'99999999999999999999' is out of range (1 to 65535)");
  EXPECT_EQ(parse_int_in_range("-99999999999999999999", 1, 65535).error().message,
            "'-99999999999999999999' is out of range (1 to 65535)");
  EXPECT_EQ(parse_int_in_range("65536", 1, 65535).error().message, "'65536' is out of range (1 to 65535)");
  EXPECT_EQ(parse_int_in_range("0", 1, 65535).error().message, "'0' is out of range (1 to 65535)");
}

}  // namespace
}  // namespace af
