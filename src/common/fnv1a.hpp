#pragma once
// FNV-1a, 64-bit (Fowler, Noll, Vo): a fast, stable, non-cryptographic hash of
// bytes. Stable across builds, machines and versions, which is what its users need:
// the shard of a symbol (shard.hpp) and the checksum of a state snapshot. Not a
// defence against tampering. Pure function, any thread.

#include <cstdint>
#include <string_view>

namespace af {

inline constexpr uint64_t kFnv1a64OffsetBasis = 14695981039346656037ull;  // 0xcbf29ce484222325
inline constexpr uint64_t kFnv1a64Prime = 1099511628211ull;               // 0x100000001b3 = 2^40 + 2^8 + 0xb3

// For each byte: hash ^= byte, then hash *= prime (mod 2^64), from the offset basis.
constexpr uint64_t fnv1a_64(std::string_view bytes) {
  uint64_t h = kFnv1a64OffsetBasis;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnv1a64Prime;
  }
  return h;
}

}  // namespace af
