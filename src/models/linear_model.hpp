#pragma once
// models.linear: act(bias + sum_i w_i * x_i) over the newest row of its frame.
// For pipelines that need a score but no network (weights live in the YAML).

#include "runtime/model.hpp"

namespace af::models {

// Adds `models.linear` to `registry`.
void register_linear(ModelRegistry& registry);

}  // namespace af::models
