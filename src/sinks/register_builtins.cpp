#include "sinks/register_builtins.hpp"

namespace af::sinks {

void register_builtins(SinkRegistry& /*registry*/) {}

}  // namespace af::sinks
