#pragma once
// The parsed pipeline (the DSL's syntax tree), after parameter expansion and
// schema checks against the plugin descriptors. Every element keeps its source
// position so that later stages (the compiler) can report `file:line:col`.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/diagnostic.hpp"
#include "registry/descriptor.hpp"
#include "registry/param.hpp"

namespace af::dsl {

template <class T>
struct Located {
  T value;
  SourceMark mark;
};

// One pipeline step (`- data:`, `- transform:`, `- features:`, `- model:`), one per
// expanded value combination.
struct StepSpec {
  std::string section;  // "data" | "transform" | "features" | "model"
  std::string path;     // YAML path of the step: "pipeline[2].features"
  // For messages: the path plus the expanded values, "pipeline[2].features{window=6}".
  std::string label;
  SourceMark mark;  // of the step's mapping

  Located<std::string> plugin;  // `using`
  // `on`: the events that run this step (model steps only); empty = its frame's rows.
  std::vector<Located<std::string>> on;

  // inputs
  std::optional<Located<std::string>> input_column;  // `inputs.column: frame.col`
  std::optional<Located<std::string>> input_frame;   // `inputs.frame: name`
  std::optional<Located<std::string>> model_ref;     // `inputs.model_ref: x.y`

  // outputs
  std::vector<Located<std::string>> output_columns;  // `outputs.columns`, `{param}` substituted
  std::optional<Located<std::string>> output_frame;  // `outputs.frame`

  registry::Params params;  // typed, defaults filled in
  std::vector<std::pair<std::string, SourceMark>> param_marks;  // where each given param was written
  // false: its params were reported as errors (params then holds only the valid
  // ones). The step is kept so that the compiler still checks what it reads and
  // writes, but nothing that depends on a param's value.
  bool params_valid = true;
  // For expanded steps: (param name, value as written in the YAML source).
  std::vector<std::pair<std::string, std::string>> expansion;

  SourceMark param_mark(const std::string& name) const {
    for (const auto& [n, m] : param_marks)
      if (n == name) return m;
    return mark;
  }
};

// One entry of `signal_generation.on_prediction`.
struct SinkSpec {
  Located<std::string> plugin;  // `using: sinks.csv_append`
  std::string path;             // "signal_generation.on_prediction[0]"
  registry::Params params;
  std::vector<std::pair<std::string, SourceMark>> param_marks;  // where each given param was written
  // Its schema, from the catalog the pipeline was loaded against (which params
  // are secret, their order); outlives the pipeline like every descriptor.
  const registry::Descriptor* descriptor = nullptr;
};

struct SignalGeneration {
  SourceMark mark;               // of the `signal_generation` key
  std::string mode = "stream";   // "stream" (the only mode the engine runs)
  int64_t lookback_days = 0;
  SourceMark lookback_mark;
  std::string interval;          // scheduling.interval, e.g. "1h"; "" when not written
  int64_t interval_ms = 0;       // 0 when not written: the prediction frame's interval applies
  SourceMark interval_mark;
  int64_t buffer_minutes = 0;
  std::vector<SinkSpec> sinks;   // empty when on_prediction is absent (validate warns, signal refuses)
  size_t sinks_written = 0;      // entries of on_prediction, also those of plugins validate does not load
  std::optional<Located<std::string>> output_col;  // signal_generation.output_col
};

struct Pipeline {
  std::string file;  // as given on the command line
  std::string name;
  std::vector<std::string> capabilities;  // using.capabilities
  std::vector<Located<std::string>> plugin_paths;  // using.plugins: shared libraries with sinks
  SignalGeneration signal;
  std::vector<StepSpec> steps;  // in source order, expanded
  // `expand` lists no step's param refers to (the compiler warns: a forgotten
  // `${expand.NAME}` would otherwise silently compute one variant only).
  std::vector<Located<std::string>> unused_expand;
  // false: the loader reported errors in params only (a step's or a sink's); the
  // compiler checks the structure, then stops (see dag::compile).
  bool params_valid = true;
};

}  // namespace af::dsl
