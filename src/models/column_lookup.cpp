#include "models/column_lookup.hpp"

#include <algorithm>

#include "common/did_you_mean.hpp"

namespace af::models {

Result<std::vector<int>> resolve_input_columns(const std::vector<std::string>& names, const ModelContext& ctx,
                                               const std::string& who) {
  const int n_inputs = std::min<int>(ctx.first_output_column, static_cast<int>(ctx.frame_columns.size()));
  const std::vector<std::string> available(ctx.frame_columns.begin(), ctx.frame_columns.begin() + n_inputs);
  std::vector<int> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    auto it = std::find(available.begin(), available.end(), name);
    if (it == available.end()) {
      std::string msg = who + ": input column '" + name + "' is not a column of the model's frame";
      const auto later = std::find(ctx.frame_columns.begin() + n_inputs, ctx.frame_columns.end(), name);
      if (later != ctx.frame_columns.end())
        msg += " produced before the model (it is an output of the model step or a later one)";
      else
        msg += did_you_mean(name, available);
      return make_error(std::move(msg));
    }
    out.push_back(static_cast<int>(it - available.begin()));
  }
  return out;
}

}  // namespace af::models
