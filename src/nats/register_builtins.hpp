#pragma once
#include "runtime/sink.hpp"

namespace af::nats {

// Adds this module's plugins: the sink sinks.nats.
void register_builtins(SinkRegistry& sinks);

}  // namespace af::nats
