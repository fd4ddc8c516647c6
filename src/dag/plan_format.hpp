#pragma once
// The compiled plan as text (`alpha_forge validate FILE`) and as JSON
// (`validate --json`). Both are deterministic: the same plan gives the same
// bytes, so golden files can compare them exactly. Stateless; any thread.

#include <nlohmann/json.hpp>

#include <string>

#include "dag/plan.hpp"

namespace af::dag {

// Header (name, lookback, interval, buffer), frames, sources, flows with their
// ordered steps, the prediction column, sinks and warnings; ends with a newline.
std::string format_plan(const Plan& plan);

// The same content, machine-readable.
nlohmann::json plan_to_json(const Plan& plan);

}  // namespace af::dag
