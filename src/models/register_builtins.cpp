#include "models/register_builtins.hpp"

#include "models/bilstm_predictor.hpp"
#include "models/linear_model.hpp"

namespace af::models {

// Every built-in model, listed explicitly (no self-registering statics).
void register_builtins(ModelRegistry& registry) {
  register_linear(registry);
  register_bilstm_predictor(registry);
}

}  // namespace af::models
