#pragma once
// The compiler: a loaded Pipeline -> the EventFlowDAG (Plan, src/dag/plan.hpp).
// Resolves `frame.column` inputs to their producers, orders steps
// topologically, groups them into flows per triggering event, and does the
// warmup arithmetic against lookback_days. Every problem goes to Diagnostics.
// Stateless; any thread.

#include <optional>

#include "common/diagnostic.hpp"
#include "dag/plan.hpp"
#include "dsl/pipeline.hpp"
#include "registry/registry.hpp"

namespace af::dag {

// nullopt when any error was reported; warnings (settling time) are added to
// both `diags` and Plan::warnings. A pipeline whose params the loader reported
// (Pipeline::params_valid false) is checked up to its frames and steps (unknown
// plugins, frames and columns, duplicates, cycles, frame intervals of the steps
// with valid params), then nullopt: the warmup and the prediction column are
// checked once every param is valid.
std::optional<Plan> compile(const dsl::Pipeline& pipeline, const registry::Catalog& catalog, Diagnostics& diags);

// Ring-buffer rows for a frame that needs `warmup_rows`: max(2, ceil(1.5 x rows)).
int64_t frame_capacity(int64_t warmup_rows);

}  // namespace af::dag
