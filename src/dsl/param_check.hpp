#pragma once
// Validation of a step's (or sink's) `params` against its plugin's ParamSpecs:
// unknown names, missing required ones, types, ranges, choices, intervals, then
// the descriptor's own cross-parameter check. Stateless; any thread.

#include <yaml-cpp/yaml.h>

#include <string>
#include <utility>
#include <vector>

#include "common/diagnostic.hpp"
#include "registry/descriptor.hpp"

namespace af::dsl {

// One param as written in the YAML (after expansion: `value` may come from an
// `expand` list while `value_mark` stays where the param was written).
struct ParamInput {
  std::string name;
  SourceMark key_mark;
  YAML::Node value;
  SourceMark value_mark;
};

// Fills `out` with typed values (defaults for absent params) and `marks` with
// where each given param was written. `path` is the params' YAML path
// ("pipeline[2].features{window=6}.params"); `params_mark` is used for missing ones.
// Returns false when any error was reported.
bool check_params(const registry::Descriptor& descriptor, const std::vector<ParamInput>& given, SourceMark params_mark,
                  const std::string& file, const std::string& path, registry::Params& out,
                  std::vector<std::pair<std::string, SourceMark>>& marks, Diagnostics& diags);

}  // namespace af::dsl
