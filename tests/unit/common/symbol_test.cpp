// The exchange's symbol grammar (issue 12 item 11): symbols become file and
// stream names, so anything that could leave a folder is refused.

#include <gtest/gtest.h>

#include "common/symbol.hpp"

namespace af {
namespace {

TEST(Symbol, AcceptsWhatBinanceLists) {
  for (const char* ok : {"BTCUSDT", "ETHUSDT", "1000SHIBUSDT", "BTCUSDT_250328", "A", "ABCDEFGHIJKLMNOPQRST"})
    EXPECT_EQ(symbol_problem(ok), "") << ok;
}

TEST(Symbol, RefusesPathsAndOddCharacters) {
  const std::string grammar = "upper-case letters and digits (A-Z 0-9, '_' inside), 1 to 20 characters";
  EXPECT_EQ(symbol_problem("../../evil"), "'../../evil' is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem("BTC/USDT"), "'BTC/USDT' is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem(".."), "'..' is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem("_BTC"), "'_BTC' is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem("BTC_"), "'BTC_' is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem("BTC__USDT"), "'BTC__USDT' is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem("BTC\nUSDT"), "'BTC?USDT' is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem(""), "an empty symbol is not an exchange symbol: " + grammar);
  EXPECT_EQ(symbol_problem("btcusdt"),
            "'btcusdt' is not an exchange symbol: lower-case letters; the exchange writes symbols in upper case");
  EXPECT_EQ(symbol_problem("ABCDEFGHIJKLMNOPQRSTU"),
            "'ABCDEFGHIJKLMNOPQRST...' is not an exchange symbol: 21 characters, at most 20");
}

}  // namespace
}  // namespace af
