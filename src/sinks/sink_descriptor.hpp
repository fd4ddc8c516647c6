#pragma once
// What every sink's Descriptor has in common: a sink reads no frame, writes no
// column and needs no history. Each sink adds its name, docs and params.

#include "registry/descriptor.hpp"

namespace af::sinks {

inline registry::Descriptor sink_descriptor() {
  registry::Descriptor d;
  d.kind = registry::PluginKind::kSink;
  d.input = registry::InputKind::kNone;
  d.output = registry::OutputKind::kNone;
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = "1 (a sink needs no history)";
  return d;
}

}  // namespace af::sinks
