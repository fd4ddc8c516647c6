#pragma once
// ShardSpec: which symbols one process of N computes (`--shard K/N`, 1-based).
// Shard K of N owns a symbol when fnv1a_64(symbol's bytes) % N == K - 1: a
// documented, stable rule (docs/scale-out.md, "Sharding"), so every process of a
// deployment, whatever its build or machine, splits a universe the same way and
// the N shards together own each symbol exactly once. Value type, any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/fnv1a.hpp"
#include "common/result.hpp"

namespace af {

struct ShardSpec {
  static constexpr int64_t kMaxShards = 4096;

  uint32_t k = 1;  // 1..n
  uint32_t n = 1;

  // The 1-based shard that owns `symbol` among `n`.
  static uint32_t shard_of(std::string_view symbol, uint32_t n) {
    return static_cast<uint32_t>(fnv1a_64(symbol) % n) + 1;
  }
  bool owns(std::string_view symbol) const { return shard_of(symbol, n) == k; }
  std::string to_string() const { return std::to_string(k) + "/" + std::to_string(n); }
};

// "K/N" with 1 <= K <= N <= kMaxShards, both plain decimal numbers. The error
// quotes the text and says what is wrong, e.g. "'3/2': K is 3 but there are only
// 2 shards (K counts from 1 to N)".
Result<ShardSpec> parse_shard(std::string_view text);

}  // namespace af
