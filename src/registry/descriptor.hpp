#pragma once
// Descriptor: everything the engine knows about a plugin without running it. The
// DSL validates against it, the compiler derives columns, events and warmup from
// it, `alpha_forge plugins` and docs/ print it. Every plugin kind (data, transform,
// feature, model, sink) has the same shape; only the factory's product differs
// (see registry.hpp).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "registry/param.hpp"

namespace af::registry {

enum class PluginKind { kData, kTransform, kFeature, kModel, kSink };

const char* plugin_kind_name(PluginKind k);  // "data", "transform", "features", "model", "sink"

// What a step reads.
enum class InputKind {
  kNone,    // data sources, sinks
  kColumn,  // `inputs.column: frame.col`: one column (features such as rsi)
  kBar,     // `inputs.frame: f`: the bar columns listed in Descriptor::bar_columns (atr, levels)
  kFrame,   // `inputs.frame: f`: every column of the frame (models; transforms read the bars)
};

// What a step writes.
enum class OutputKind {
  kNone,     // sinks
  kColumns,  // `outputs.columns: [...]` on the input frame
  kFrame,    // `outputs.frame: name`: a new frame (data sources, transforms)
};

struct Descriptor {
  std::string name;  // as used in the YAML: "features.rsi"
  PluginKind kind = PluginKind::kFeature;
  std::string summary;  // one line
  std::string doc;      // formula and semantics, markdown, may span lines
  std::vector<ParamSpec> params;

  InputKind input = InputKind::kNone;
  std::vector<std::string> bar_columns;  // for kBar, in the order update() receives them

  OutputKind output = OutputKind::kNone;
  int min_outputs = 0;                    // for kColumns
  int max_outputs = 0;                    // for kColumns
  std::vector<std::string> output_docs;   // what output i means, in order ("macd line", ...)
  std::vector<std::string> extra_frame_columns;  // for kFrame transforms: columns beyond the bar's ("filled")

  // Rows of its input a step needs before its output is valid (RSI(14): 15,
  // SMA(60): 60). Along a dependency path the compiler adds (need - 1).
  std::function<int64_t(const Params&)> warmup_rows;
  std::string warmup_doc;  // the rule in words: "window + 1"

  // Exponential indicators need settling time beyond their warmup: the window
  // whose 10x the lookback should cover (0 = none). Used for a warning only.
  std::function<int64_t(const Params&)> settling_window;

  // For kFrame producers: the interval of the produced frame, given the params
  // and the input frame's interval (0 for data sources). nullopt = invalid, with
  // the reason in `error`.
  std::function<std::optional<int64_t>(const Params&, int64_t input_interval_ms, std::string& error)> frame_interval;

  // True when a step's rows for one symbol depend on other symbols' bars
  // (transforms.align's common grid, any cross-sectional step): the step needs
  // every symbol of the universe in one process, so `--shard K/N` refuses a
  // pipeline holding it (dag/shard_plan.hpp), and compute split by symbol over
  // threads keeps such a pipeline on one thread.
  bool needs_all_symbols = false;

  // Checks between params beyond each param's own range; returns messages.
  std::function<std::vector<std::string>(const Params&)> check;
};

}  // namespace af::registry
