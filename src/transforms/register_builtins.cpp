#include "transforms/register_builtins.hpp"

namespace af::transforms {

void register_builtins(TransformRegistry& /*registry*/) {}

}  // namespace af::transforms
