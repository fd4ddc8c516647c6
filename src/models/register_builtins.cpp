#include "models/register_builtins.hpp"

namespace af::models {

void register_builtins(ModelRegistry& /*registry*/) {}

}  // namespace af::models
