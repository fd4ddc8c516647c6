#pragma once
// Range-checked parsing of integers written in configuration (ports in URLs,
// counts in flags and files). Every number a user writes goes through here
// instead of std::stol/atoi, which throw or overflow on 20-digit input.
// Pure functions, any thread.

#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace af {

// The whole of `text` as a decimal integer in [min, max] (an optional leading
// '-'; no '+', spaces or other characters). The error says what is wrong and
// quotes the text: "'99999999999999999999' is out of range (1 to 65535)".
Result<int64_t> parse_int_in_range(std::string_view text, int64_t min, int64_t max);

}  // namespace af
