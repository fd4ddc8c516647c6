#pragma once
// `sinks.python`: its descriptor (params and docs, shown by `alpha_forge
// plugins` like any built-in's) and its factory. Registering loads nothing: the
// interpreter starts when the first Python sink is built.

#include "runtime/sink.hpp"

namespace af::python {

registry::Descriptor python_sink_descriptor();

// Adds sinks.python to the registry.
void register_python_sink(SinkRegistry& registry);

}  // namespace af::python
