#pragma once
// Resolves a model's input column names to indexes in its frame's rows, with
// "did you mean" on a miss. Only the columns produced before the model's own
// outputs (ModelContext::first_output_column) are inputs.

#include <string>
#include <vector>

#include "common/result.hpp"
#include "runtime/model.hpp"

namespace af::models {

// One index per name, in order; an error naming `who` and the first unknown
// column (with a suggestion) otherwise.
Result<std::vector<int>> resolve_input_columns(const std::vector<std::string>& names, const ModelContext& ctx,
                                               const std::string& who);

}  // namespace af::models
