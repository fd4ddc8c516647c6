#pragma once
// What every built-in sink's Descriptor has in common: a sink reads no frame,
// writes no column and needs no history, and takes `ts_label` (which time labels
// a record: applied for every sink in one place, delivery/ts_label_sink). Each
// sink adds its name, docs and params.

#include "registry/descriptor.hpp"
#include "registry/param.hpp"

namespace af::sinks {

inline registry::Descriptor sink_descriptor() {
  registry::Descriptor d;
  d.kind = registry::PluginKind::kSink;
  d.input = registry::InputKind::kNone;
  d.output = registry::OutputKind::kNone;
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = "1 (a sink needs no history)";
  // No default value: an absent ts_label (open) keeps the plans, and so the
  // snapshots, of pipelines written before it existed.
  d.params.push_back(registry::ParamSpec{
      "ts_label", registry::ParamType::kChoice, false, {}, {}, {}, {"open", "close"},
      "which time `ts` is: the bar's open time (`open`, the default) or its close time, open + the prediction "
      "frame's interval (`close`, as the Python original labels rows); dedup and idempotency keys follow it"});
  return d;
}

}  // namespace af::sinks
