#pragma once
// "Did you mean" suggestions for misspelled keys and plugin names.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace af {

// Levenshtein distance between a and b.
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate when it is close enough to be a plausible typo
// (distance <= max(1, len/3)); nullopt otherwise.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace af
