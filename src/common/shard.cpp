#include "common/shard.hpp"

#include "common/number_parse.hpp"

namespace af {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<ShardSpec> parse_shard(std::string_view text) {
  std::string quoted = "'";  // built by append: g++ 12 warns (-Wrestrict) on "'" + std::string(text)
  quoted.append(text).append("'");
  const auto slash = text.find('/');
  const std::string_view k_text = slash == std::string_view::npos ? text : text.substr(0, slash);
  const std::string_view n_text = slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
  if (slash == std::string_view::npos || !all_digits(k_text) || !all_digits(n_text))
    return make_error(quoted + ": expected K/N, two whole numbers with 1 <= K <= N (for example 1/4)");
  // Digits only, so the one thing parse_int_in_range can refuse here is the size.
  constexpr int64_t kMax = ShardSpec::kMaxShards;
  const auto n = parse_int_in_range(n_text, 0, kMax);
  if (!n) return make_error(quoted + ": N is larger than " + std::to_string(kMax) + ", the most shards supported");
  if (*n == 0) return make_error(quoted + ": N must be at least 1 (N is the number of shards)");
  const auto k = parse_int_in_range(k_text, 0, kMax);
  if (!k || *k > *n)
    return make_error(quoted + ": K is " + std::string(k_text) + " but there are only " + std::to_string(*n) +
                      (*n == 1 ? " shard" : " shards") + " (K counts from 1 to N)");
  if (*k == 0) return make_error(quoted + ": K counts from 1 (the shards are 1/N to N/N)");
  return ShardSpec{static_cast<uint32_t>(*k), static_cast<uint32_t>(*n)};
}

}  // namespace af
