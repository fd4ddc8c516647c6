#include "nats/register_builtins.hpp"

#include "nats/nats_sink.hpp"

namespace af::nats {

void register_builtins(SinkRegistry& sinks) { register_nats_sink(sinks); }

}  // namespace af::nats
