// `--shard K/N`: the parser's errors (they are API) and the documented hash.
#include <gtest/gtest.h>

#include <string>

#include "common/fnv1a.hpp"
#include "common/shard.hpp"

namespace af {
namespace {

// "'text'", built by append: g++ 12 warns (-Wrestrict) on "'" + std::string(...).
std::string quoted(const std::string& text) {
  std::string q = "'";
  q += text;
  q += "'";
  return q;
}

std::string error_of(const std::string& text) {
  auto r = parse_shard(text);
  return r ? std::string("(parsed)") : r.error().message;
}

TEST(ParseShard, AcceptsKOfN) {
  auto s = parse_shard("2/3");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->k, 2u);
  EXPECT_EQ(s->n, 3u);
  EXPECT_EQ(s->to_string(), "2/3");
  auto one = parse_shard("1/1");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->owns("BTCUSDT"));
  auto most = parse_shard("4096/4096");
  ASSERT_TRUE(most) << most.error().message;
  EXPECT_EQ(most->n, 4096u);
}

TEST(ParseShard, RefusesEachBadFormWithItsReason) {
  EXPECT_EQ(error_of("0/2"), "'0/2': K counts from 1 (the shards are 1/N to N/N)");
  EXPECT_EQ(error_of("3/2"), "'3/2': K is 3 but there are only 2 shards (K counts from 1 to N)");
  EXPECT_EQ(error_of("2/1"), "'2/1': K is 2 but there are only 1 shard (K counts from 1 to N)");
  EXPECT_EQ(error_of("2/0"), "'2/0': N must be at least 1 (N is the number of shards)");
  EXPECT_EQ(error_of("0/0"), "'0/0': N must be at least 1 (N is the number of shards)");
  const std::string form = ": expected K/N, two whole numbers with 1 <= K <= N (for example 1/4)";
  EXPECT_EQ(error_of("x/y"), quoted("x/y") + form);
  for (const char* bad : {"", "1", "/", "1/", "/2", "1/2/3", "-1/2", "+1/2", "1/+2", " 1/2", "1/2 ", "1.0/2", "1/2x"})
    EXPECT_EQ(error_of(bad), quoted(bad) + form) << bad;
  EXPECT_EQ(error_of("1/4097"), "'1/4097': N is larger than 4096, the most shards supported");
  // 2^64 + 1 and 2^63: larger than any integer type, refused without overflowing.
  EXPECT_EQ(error_of("1/18446744073709551617"),
            "'1/18446744073709551617': N is larger than 4096, the most shards supported");
  EXPECT_EQ(error_of("9223372036854775808/2"),
            "'9223372036854775808/2': K is 9223372036854775808 but there are only 2 shards (K counts from 1 to N)");
}

// Expected values computed independently of this code, with
//   python3 -c 'h=0xcbf29ce484222325
//   for c in b"BTCUSDT": h=((h^c)*0x100000001b3)%2**64
//   print(hex(h), h%2+1, h%3+1)'
// (and likewise for each string); "a" and "foobar" are also the published vectors
// of the FNV reference test suite (FNV1a_64).
TEST(Fnv1a64, MatchesIndependentlyComputedVectors) {
  EXPECT_EQ(kFnv1a64OffsetBasis, 0xcbf29ce484222325ull);
  EXPECT_EQ(kFnv1a64Prime, 0x100000001b3ull);
  EXPECT_EQ(fnv1a_64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a_64("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(fnv1a_64("BTCUSDT"), 0x3e640dbff523962cull);
  EXPECT_EQ(fnv1a_64("ETHUSDT"), 0x7f5c456d3d0c94f0ull);
  EXPECT_EQ(fnv1a_64("SOLUSDT"), 0xd2c4ad564fc6ae7dull);
  EXPECT_EQ(fnv1a_64("LINKUSDT"), 0x6126964f73e2d825ull);
  EXPECT_EQ(fnv1a_64("LTCUSDT"), 0xb653b59f16f97a2aull);
  static_assert(fnv1a_64("a") == 0xaf63dc4c8601ec8cull, "usable at compile time");
}

TEST(ShardSpec, OwnsBySymbolHashModuloN) {
  // From the vectors above: h % 2 + 1 and h % 3 + 1.
  EXPECT_EQ(ShardSpec::shard_of("BTCUSDT", 2), 1u);
  EXPECT_EQ(ShardSpec::shard_of("SOLUSDT", 2), 2u);
  EXPECT_EQ(ShardSpec::shard_of("LINKUSDT", 2), 2u);
  EXPECT_EQ(ShardSpec::shard_of("LTCUSDT", 2), 1u);
  EXPECT_EQ(ShardSpec::shard_of("BTCUSDT", 3), 1u);
  EXPECT_EQ(ShardSpec::shard_of("LINKUSDT", 3), 2u);
  EXPECT_EQ(ShardSpec::shard_of("SOLUSDT", 3), 3u);
  EXPECT_EQ(ShardSpec::shard_of("LTCUSDT", 3), 3u);
  EXPECT_TRUE((ShardSpec{2, 3}).owns("LINKUSDT"));
  EXPECT_FALSE((ShardSpec{1, 3}).owns("LINKUSDT"));
  // Every symbol has exactly one owner among N.
  for (uint32_t n = 1; n <= 7; ++n) {
    for (const char* sym : {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "1000PEPEUSDT"}) {
      int owners = 0;
      for (uint32_t k = 1; k <= n; ++k) owners += ShardSpec{k, n}.owns(sym) ? 1 : 0;
      EXPECT_EQ(owners, 1) << sym << " among " << n;
    }
  }
}

}  // namespace
}  // namespace af
