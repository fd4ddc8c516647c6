#pragma once
// The plan sidecar of a file sink: `<file>.plan` lists, one line each, the
// fingerprint of every pipeline whose predictions the file holds and the
// pipeline's name. A file sink reads it on open to refuse appending to output of
// a different plan (its dedup marks would skip this run's records and keep the
// old ones: stale predictions, silently). Plain functions; the caller's thread.

#include <string>
#include <vector>

#include "common/result.hpp"

namespace af::sinks {

struct PlanEntry {
  std::string fingerprint;  // 16 hex digits
  std::string pipeline;     // the pipeline's name
};

// "<file>.plan"
std::string plan_sidecar_path(const std::string& file);

// The sidecar's entries; empty when it does not exist. A line that is not
// "<fingerprint> <name>" is an error naming the sidecar and the line.
Result<std::vector<PlanEntry>> read_plan_sidecar(const std::string& file);

// Replaces the sidecar with `entries` (written to a temporary file, fsynced,
// renamed over the old one).
Status write_plan_sidecar(const std::string& file, const std::vector<PlanEntry>& entries);

}  // namespace af::sinks
