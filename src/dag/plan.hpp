#pragma once
// The compiled pipeline, the EventFlowDAG: frames with their columns, steps in
// topological order with resolved column indexes, flows keyed by the event that
// triggers them, and the warmup arithmetic. Immutable once compiled; the runtime
// builds its frames and operators from it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.hpp"
#include "dsl/pipeline.hpp"
#include "registry/descriptor.hpp"

namespace af::dag {

struct ColumnRef {
  int frame = -1;
  int column = -1;  // index into FramePlan::columns
};

struct FramePlan {
  std::string name;
  int64_t interval_ms = 0;
  // kBarColumns first, then the producer's extra_frame_columns, then every step
  // output on this frame in step order.
  std::vector<std::string> columns;
  int producer_step = -1;  // the data or transform step that makes its rows
  std::string event;       // "data.binance_futures_1h" or "frame.ohlcv_2h"
  // Rows of this frame needed before every column of it is valid.
  int64_t warmup_rows = 1;
  // The step whose valid_after_rows sets warmup_rows (-1: bar columns only).
  int warmup_step = -1;
  // Ring-buffer rows kept per symbol (warmup_rows times a margin).
  int64_t capacity = 1;
};

struct StepPlan {
  int id = -1;          // index in Plan::steps (topological order)
  std::string label;    // from StepSpec::label
  std::string path;
  SourceMark mark;
  registry::PluginKind kind = registry::PluginKind::kFeature;
  std::string plugin;   // "features.rsi"
  const registry::Descriptor* descriptor = nullptr;
  registry::Params params;
  std::optional<std::string> model_ref;

  int frame = -1;          // the frame it reads (a data step: the frame it fills)
  int output_frame = -1;   // data and transform steps: the frame they produce
  // kColumn: one ref; kBar: one per Descriptor::bar_columns; kFrame (models):
  // every column of the frame that precedes this step's own outputs.
  std::vector<ColumnRef> inputs;
  std::vector<int> output_columns;  // indexes into the frame's columns

  // `on:` as written (model steps): the events that run it instead of its
  // frame's rows; empty = its frame's rows (it is in its frame's Flow).
  std::vector<std::string> on;

  int64_t need_rows = 1;   // its own warmup rule
  // Rows of its frame after which its outputs are valid: 1 + sum of (need - 1)
  // along the deepest dependency path ending here.
  int64_t valid_after_rows = 1;
};

// The steps run when a row is appended to `frame` for one symbol, in order.
struct Flow {
  std::string event;  // the frame's event
  int frame = -1;
  std::vector<int> steps;
};

// The steps that run on one timer, `timer.<interval>` (DESIGN §2): at each
// epoch-aligned interval boundary plus buffer_minutes, for every symbol, each on
// the newest row of its frame. In plan order.
struct TimerFlow {
  std::string event;  // "timer.2h"
  int64_t interval_ms = 0;
  std::vector<int> steps;
};

struct SourcePlan {
  int step = -1;
  std::string plugin;       // "data.binance_futures"
  std::string source_name;  // "binance_futures"
  int frame = -1;
  int64_t interval_ms = 0;
  std::vector<std::string> universe;
  std::string event;  // "data.binance_futures_1h"
  // Bars of this source needed to warm up everything downstream (converted through
  // resample ratios), and the bars that lookback_days provides.
  int64_t warmup_bars = 0;
  int64_t lookback_bars = 0;
};

struct Plan {
  std::string name;
  std::string file;
  std::vector<FramePlan> frames;
  std::vector<StepPlan> steps;
  std::vector<Flow> flows;
  std::vector<TimerFlow> timers;      // by interval, shortest first
  std::vector<int> signal_subscribers;  // steps on `signal.generated`, in plan order
  std::vector<SourcePlan> sources;

  ColumnRef prediction;           // the emitted column
  int prediction_step = -1;       // the step writing it (-1: a column of the frame's producer)
  std::string prediction_column;  // its name ("model.prediction")

  int64_t lookback_days = 0;
  int64_t interval_ms = 0;  // scheduling.interval
  int64_t buffer_minutes = 0;
  int64_t coarsest_interval_ms = 0;  // of every frame: history starts on its boundary
  std::vector<dsl::SinkSpec> sinks;
  SourceMark signal_mark;  // of the `signal_generation` key, for "no sinks"
  std::vector<std::string> plugin_paths;
  std::vector<Diagnostic> warnings;

  int frame_index(const std::string& frame_name) const {
    for (size_t i = 0; i < frames.size(); ++i)
      if (frames[i].name == frame_name) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace af::dag
