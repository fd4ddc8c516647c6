#pragma once
// Small helpers over yaml-cpp nodes for the loader: 1-based positions, scalar
// classification (plain vs quoted), typed reads that never throw, and the
// "did you mean" check of a mapping's keys. Stateless; any thread.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.hpp"

namespace af::dsl {

// yaml-cpp marks are 0-based (and -1 when unknown); ours are 1-based (0 = unknown).
SourceMark to_mark(const YAML::Mark& m);

// The node's position, or `fallback` for a null node (yaml-cpp gives a null value
// the position of the next token, which points at the wrong line).
SourceMark mark_of(const YAML::Node& n, SourceMark fallback);

// A plain (unquoted) scalar: only these can be numbers or booleans.
bool is_plain_scalar(const YAML::Node& n);

std::optional<int64_t> as_int(const YAML::Node& n);    // plain, whole text an integer
// Plain digits with an optional sign, whether or not they fit in int64: a value
// as_int refuses for its size is out of range, not of the wrong type.
bool is_integer_text(const YAML::Node& n);
std::optional<double> as_number(const YAML::Node& n);  // plain, whole text a finite number
std::optional<bool> as_bool(const YAML::Node& n);      // plain true/false (any case YAML 1.2 allows)

// "a string ('abc')", "an int (5)", "a number (0.5)", "a list", "a map", "nothing".
std::string describe(const YAML::Node& n);

// One key of a mapping with its position.
struct KeyedNode {
  std::string key;
  SourceMark key_mark;
  YAML::Node value;
  SourceMark value_mark;  // the key's position when the value is null
};

// The entries of a mapping in source order. Duplicate keys and unknown keys are
// reported (unknown ones with "did you mean" among `allowed`, when `allowed` is
// not empty) and dropped. `suggested`, when given, receives the keys suggested
// for misspelled ones, so that the caller does not also report them missing.
std::vector<KeyedNode> map_entries(const YAML::Node& map, const std::vector<std::string>& allowed,
                                   const std::string& file, const std::string& path, Diagnostics& diags,
                                   std::vector<std::string>* suggested = nullptr);

// The entry named `key`, or nullptr.
const KeyedNode* find_entry(const std::vector<KeyedNode>& entries, const std::string& key);

}  // namespace af::dsl
