#include "dag/compiler.hpp"

#include <algorithm>
#include <cassert>
#include <functional>
#include <map>
#include <set>

#include "common/bar.hpp"
#include "common/did_you_mean.hpp"
#include "common/interval.hpp"
#include "dsl/limits.hpp"

namespace af::dag {

int64_t frame_capacity(int64_t warmup_rows) { return std::max<int64_t>(2, (3 * warmup_rows + 1) / 2); }

namespace {

using registry::Descriptor;
using registry::InputKind;
using registry::OutputKind;
using registry::PluginKind;

std::string line_of(SourceMark m) { return m.line > 0 ? " (line " + std::to_string(m.line) + ")" : std::string(); }

// Per source step, while compiling.
struct Node {
  const dsl::StepSpec* spec = nullptr;
  const Descriptor* d = nullptr;
  std::string frame;                 // the frame it reads (a data step: the one it fills)
  std::string input_column;          // kColumn: the column part of inputs.column
  std::vector<int> deps;             // source indexes, sorted, unique
  int order = -1;                    // position in topological order
};

// Where a column of a frame comes from: a step (source index) or the frame itself.
struct ColumnSource {
  int step = -1;  // -1: a bar or extra column of the frame's producer
  SourceMark mark;
};

// One compilation: reads the pipeline and the catalog, builds the Plan in
// stages (descriptors, frames, columns, links, order, frames and steps, warmup,
// sources, prediction, flows). Lives for one compile() call on its thread.
class Compiler {
 public:
  Compiler(const dsl::Pipeline& p, const registry::Catalog& c, Diagnostics& diags)
      : p_(p), catalog_(c), diags_(diags) {}

  std::optional<Plan> run() {
    if (!resolve_descriptors()) return std::nullopt;
    collect_frames();
    collect_columns();
    link();
    if (errors_) return std::nullopt;
    if (!sort()) return std::nullopt;
    build_frames_and_steps();
    // Warmup, sources and the prediction column depend on param values: with a
    // param reported invalid by the loader they would only add false errors.
    if (errors_ || !p_.params_valid) return std::nullopt;
    warmup();
    sources();
    prediction();
    flows();
    subscriptions();
    if (errors_) return std::nullopt;
    event_loops();
    if (errors_) return std::nullopt;
    plan_.name = p_.name;
    plan_.file = p_.file;
    plan_.lookback_days = p_.signal.lookback_days;
    plan_.buffer_minutes = p_.signal.buffer_minutes;
    plan_.sinks = p_.signal.sinks;
    plan_.signal_mark = p_.signal.mark;
    for (const auto& u : p_.unused_expand)
      warning(u.mark, "expand." + u.value,
              "expand list '" + u.value + "' is used by no step (no param is ${expand." + u.value + "})");
    if (p_.signal.sinks_written == 0)
      warning(p_.signal.mark, "signal_generation.on_prediction",
              "no sinks: `signal` refuses to run without one (the original requires on_prediction); `validate` "
              "and `replay --dump` run without");
    for (const auto& path : p_.plugin_paths) plan_.plugin_paths.push_back(path.value);
    for (const auto& f : plan_.frames) plan_.coarsest_interval_ms = std::max(plan_.coarsest_interval_ms, f.interval_ms);
    return std::move(plan_);
  }

 private:
  void error(SourceMark mark, const std::string& path, const std::string& message) {
    diags_.error(p_.file, mark, path, message);
    ++errors_;
  }
  void warning(SourceMark mark, const std::string& path, const std::string& message) {
    diags_.warning(p_.file, mark, path, message);
    plan_.warnings.push_back(diags_.items().back());
  }

  bool resolve_descriptors() {
    nodes_.resize(p_.steps.size());
    for (size_t i = 0; i < p_.steps.size(); ++i) {
      const auto& s = p_.steps[i];
      nodes_[i].spec = &s;
      nodes_[i].d = catalog_.find(s.plugin.value);
      if (!nodes_[i].d) error(s.plugin.mark, s.label + ".using", "unknown plugin '" + s.plugin.value + "'" +
                                                                      did_you_mean(s.plugin.value, catalog_.all_names()));
    }
    if (!std::any_of(nodes_.begin(), nodes_.end(), [](const Node& n) { return n.d && n.d->kind == PluginKind::kData; }))
      error({}, "pipeline", "no data step: a pipeline needs at least one data source");
    return errors_ == 0;
  }

  // Frame name -> producing step, in source order.
  void collect_frames() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const auto& s = *nodes_[i].spec;
      if (nodes_[i].d->output != OutputKind::kFrame || !s.output_frame) continue;
      const std::string& name = s.output_frame->value;
      auto it = frame_producer_.find(name);
      if (it != frame_producer_.end()) {
        const auto& other = *nodes_[it->second].spec;
        error(s.output_frame->mark, s.label + ".outputs.frame",
              "duplicate frame '" + name + "': also produced by " + other.label + line_of(other.output_frame->mark));
        continue;
      }
      frame_producer_[name] = static_cast<int>(i);
      frame_names_.push_back(name);
    }
  }

  std::string frame_hint(const std::string& name) const { return did_you_mean(name, frame_names_); }

  // Which frame every step reads, and which step writes every column.
  void collect_columns() {
    for (const auto& name : frame_names_) {
      auto& cols = columns_[name];
      for (auto c : kBarColumns) cols[std::string(c)] = ColumnSource{};
      const Descriptor& pd = *nodes_[frame_producer_[name]].d;
      for (const auto& c : pd.extra_frame_columns) cols[c] = ColumnSource{};
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      const auto& s = *n.spec;
      if (n.d->kind == PluginKind::kData) {
        if (s.output_frame) n.frame = s.output_frame->value;
        continue;
      }
      if (n.d->input == InputKind::kColumn && s.input_column) {
        const std::string& text = s.input_column->value;
        const size_t dot = text.find('.');  // the first dot: "ohlcv.model.prediction"
        n.frame = text.substr(0, dot);
        n.input_column = text.substr(dot + 1);
        if (!frame_producer_.count(n.frame)) {
          error(s.input_column->mark, s.label + ".inputs.column",
                "unknown frame '" + n.frame + "' in '" + text + "'" + frame_hint(n.frame));
          n.frame.clear();
        }
      } else if (s.input_frame) {
        n.frame = s.input_frame->value;
        if (!frame_producer_.count(n.frame)) {
          error(s.input_frame->mark, s.label + ".inputs.frame", "unknown frame '" + n.frame + "'" + frame_hint(n.frame));
          n.frame.clear();
        }
      }
      if (n.frame.empty()) continue;
      auto& cols = columns_[n.frame];
      for (size_t k = 0; k < s.output_columns.size(); ++k) {
        const auto& out = s.output_columns[k];
        const std::string path = s.label + ".outputs.columns[" + std::to_string(k) + "]";
        auto it = cols.find(out.value);
        if (it == cols.end()) {
          cols[out.value] = ColumnSource{static_cast<int>(i), out.mark};
        } else if (it->second.step < 0) {
          error(out.mark, path,
                "duplicate column '" + out.value + "' on frame '" + n.frame + "': it is a column of the frame itself (from " +
                    nodes_[frame_producer_[n.frame]].spec->label + ")");
        } else {
          error(out.mark, path,
                "duplicate column '" + out.value + "' on frame '" + n.frame + "': also written by " +
                    nodes_[it->second.step].spec->label + line_of(it->second.mark));
        }
      }
    }
  }

  // Dependencies of every step.
  void link() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      const auto& s = *n.spec;
      std::set<int> deps;
      if (n.d->kind == PluginKind::kData || n.frame.empty()) continue;
      const int producer = frame_producer_[n.frame];
      if (n.d->kind == PluginKind::kTransform || n.d->input == InputKind::kBar) {
        deps.insert(producer);
        for (const auto& c : n.d->bar_columns) {
          if (!columns_[n.frame].count(c))
            error(s.input_frame ? s.input_frame->mark : s.mark, s.label + ".inputs.frame",
                  n.d->name + " reads column '" + c + "', which frame '" + n.frame + "' does not have");
        }
      } else if (n.d->input == InputKind::kColumn) {
        const auto& cols = columns_[n.frame];
        auto it = cols.find(n.input_column);
        if (it == cols.end()) {
          std::vector<std::string> names;
          for (const auto& [name, src] : cols) names.push_back(name);
          error(s.input_column->mark, s.label + ".inputs.column",
                "unknown column '" + n.input_column + "' of frame '" + n.frame + "'" + did_you_mean(n.input_column, names));
          continue;
        }
        deps.insert(it->second.step < 0 ? producer : it->second.step);
      } else if (n.d->input == InputKind::kFrame) {
        // A model reads every column of its frame: it runs after every feature
        // on it and after the models declared before it.
        deps.insert(producer);
        for (size_t j = 0; j < nodes_.size(); ++j) {
          if (j == i || nodes_[j].frame != n.frame || nodes_[j].spec->output_columns.empty()) continue;
          const bool is_model = nodes_[j].d->kind == PluginKind::kModel;
          if (!is_model || j < i) deps.insert(static_cast<int>(j));
        }
      }
      n.deps.assign(deps.begin(), deps.end());
    }
  }

  // Kahn's algorithm, always taking the ready step that comes first in the
  // source, so that the order is stable with respect to the file.
  bool sort() {
    const size_t n = nodes_.size();
    std::vector<int> pending(n, 0);
    std::vector<std::vector<int>> users(n);
    for (size_t i = 0; i < n; ++i) {
      pending[i] = static_cast<int>(nodes_[i].deps.size());
      for (int d : nodes_[i].deps) users[d].push_back(static_cast<int>(i));
    }
    std::set<int> ready;
    for (size_t i = 0; i < n; ++i)
      if (pending[i] == 0) ready.insert(static_cast<int>(i));
    while (!ready.empty()) {
      const int i = *ready.begin();
      ready.erase(ready.begin());
      nodes_[i].order = static_cast<int>(order_.size());
      order_.push_back(i);
      for (int u : users[i])
        if (--pending[u] == 0) ready.insert(u);
    }
    if (order_.size() == n) return true;
    report_cycle();
    return false;
  }

  // Follows dependencies among the unsorted steps until one repeats: that loop
  // is a cycle (every unsorted step has an unsorted dependency).
  void report_cycle() {
    int start = -1;
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].order < 0) {
        start = static_cast<int>(i);
        break;
      }
    std::vector<int> walk;
    std::map<int, size_t> seen;
    int cur = start;
    while (!seen.count(cur)) {
      seen[cur] = walk.size();
      walk.push_back(cur);
      int next = -1;
      for (int d : nodes_[cur].deps)
        if (nodes_[d].order < 0) {
          next = d;
          break;
        }
      assert(next >= 0 && "an unsorted step always has an unsorted dependency");
      cur = next;
    }
    std::vector<int> cycle(walk.begin() + static_cast<std::ptrdiff_t>(seen[cur]), walk.end());
    // Start at the earliest step in the file and go in the direction data flows.
    std::reverse(cycle.begin(), cycle.end());
    auto first = std::min_element(cycle.begin(), cycle.end());
    std::rotate(cycle.begin(), first, cycle.end());
    std::string text;
    for (int c : cycle) text += nodes_[c].spec->label + " -> ";
    text += nodes_[cycle.front()].spec->label;
    const auto& s = *nodes_[cycle.front()].spec;
    error(s.mark, s.label, "dependency cycle: " + text);
  }

  void build_frames_and_steps() {
    plan_.steps.resize(order_.size());
    for (size_t k = 0; k < order_.size(); ++k) {
      const int i = order_[k];
      const Node& n = nodes_[i];
      const auto& s = *n.spec;
      StepPlan& st = plan_.steps[k];
      st.id = static_cast<int>(k);
      st.label = s.label;
      st.path = s.path;
      st.mark = s.mark;
      st.kind = n.d->kind;
      st.plugin = n.d->name;
      st.descriptor = n.d;
      st.params = s.params;
      if (s.model_ref) st.model_ref = s.model_ref->value;
      for (const auto& ev : s.on) st.on.push_back(ev.value);
      // Descriptor callbacks read params: never those of a step whose params failed.
      st.need_rows = n.d->warmup_rows && s.params_valid ? std::max<int64_t>(1, n.d->warmup_rows(s.params)) : 1;
      if (st.need_rows > dsl::kMaxStepWarmupRows) {
        error(s.mark, s.label,
              "needs " + std::to_string(st.need_rows) + " rows of history before its first value; a step may need "
              "at most " + std::to_string(dsl::kMaxStepWarmupRows));
        st.need_rows = 1;  // reported; keeps the warmup sums below in range
      }

      // Without valid params a frame's interval is unknown: it is not built, and
      // the steps on it are skipped like those of a frame that failed to build.
      if (n.d->output == OutputKind::kFrame && s.output_frame && s.params_valid) make_frame(k);
      st.frame = plan_.frame_index(n.frame);
      if (st.frame < 0) continue;  // its input frame failed to build (or has invalid params); reported
      FramePlan& f = plan_.frames[st.frame];
      auto ref = [&](const std::string& c) {
        auto it = std::find(f.columns.begin(), f.columns.end(), c);
        assert(it != f.columns.end() && "columns were resolved before ordering");
        return ColumnRef{st.frame, static_cast<int>(it - f.columns.begin())};
      };
      if (n.d->kind == PluginKind::kTransform) {
        for (auto c : kBarColumns) st.inputs.push_back(ref(std::string(c)));
      } else if (n.d->input == InputKind::kColumn) {
        st.inputs.push_back(ref(n.input_column));
      } else if (n.d->input == InputKind::kBar) {
        for (const auto& c : n.d->bar_columns) st.inputs.push_back(ref(c));
      } else if (n.d->input == InputKind::kFrame) {
        for (size_t c = 0; c < f.columns.size(); ++c) st.inputs.push_back({st.frame, static_cast<int>(c)});
      }
      for (const auto& out : s.output_columns) {
        st.output_columns.push_back(static_cast<int>(f.columns.size()));
        f.columns.push_back(out.value);
      }
    }
  }

  void make_frame(size_t k) {
    const Node& n = nodes_[order_[k]];
    const auto& s = *n.spec;
    StepPlan& st = plan_.steps[k];
    FramePlan f;
    f.name = s.output_frame->value;
    f.producer_step = static_cast<int>(k);
    int64_t input_interval = 0;
    if (n.d->kind != PluginKind::kData) {
      const int in = plan_.frame_index(n.frame);
      if (in < 0) return;
      input_interval = plan_.frames[in].interval_ms;
    }
    std::string why;
    std::optional<int64_t> interval;
    if (n.d->frame_interval) {
      interval = n.d->frame_interval(s.params, input_interval, why);
    } else if (s.params.has("interval")) {
      interval = parse_interval(s.params.get_string("interval"));
    } else {
      interval = input_interval > 0 ? std::optional<int64_t>(input_interval) : std::nullopt;
    }
    if (!interval || *interval <= 0) {
      if (why.empty()) why = "cannot tell the interval of frame '" + f.name + "'";
      error(s.mark, s.label + ".params", why);
      return;
    }
    f.interval_ms = *interval;
    if (n.d->kind == PluginKind::kData) {
      std::string source = n.d->name;
      if (source.rfind("data.", 0) == 0) source = source.substr(5);
      f.event = "data." + source + "_" + interval_name(f.interval_ms);
    } else {
      f.event = "frame." + f.name;
    }
    for (auto c : kBarColumns) f.columns.emplace_back(c);
    for (const auto& c : n.d->extra_frame_columns) f.columns.push_back(c);
    st.output_frame = static_cast<int>(plan_.frames.size());
    plan_.frames.push_back(std::move(f));
  }

  // valid_after_rows along the deepest path within each frame; a dependency on
  // another frame (a transform's input) starts the count again at 1.
  void warmup() {
    best_dep_.assign(plan_.steps.size(), -1);
    for (size_t k = 0; k < plan_.steps.size(); ++k) {
      StepPlan& st = plan_.steps[k];
      if (st.kind == PluginKind::kData) {
        st.valid_after_rows = 1;
        continue;
      }
      int64_t base = 1;
      for (int d : nodes_[order_[k]].deps) {
        const StepPlan& dep = plan_.steps[nodes_[d].order];
        if (dep.frame != st.frame || dep.kind == PluginKind::kData) continue;
        if (dep.valid_after_rows > base) {
          base = dep.valid_after_rows;
          best_dep_[k] = dep.id;
        }
      }
      st.valid_after_rows = base + st.need_rows - 1;
    }
    for (auto& f : plan_.frames) {
      f.warmup_rows = 1;
      f.warmup_step = -1;
    }
    for (const auto& st : plan_.steps) {
      if (st.frame < 0 || st.kind == PluginKind::kData) continue;
      FramePlan& f = plan_.frames[st.frame];
      if (st.valid_after_rows > f.warmup_rows) {
        f.warmup_rows = st.valid_after_rows;
        f.warmup_step = st.id;
      }
    }
    for (auto& f : plan_.frames) f.capacity = frame_capacity(f.warmup_rows);
  }

  // "1 + (61-1) pipeline[2].features + (30-1) pipeline[3].model = 90"
  std::string warmup_arithmetic(const FramePlan& f) const {
    std::vector<int> path;
    for (int s = f.warmup_step; s >= 0; s = best_dep_[s]) path.push_back(s);
    std::reverse(path.begin(), path.end());
    std::string out = "1";
    for (int s : path) {
      const StepPlan& st = plan_.steps[s];
      out += " + (" + std::to_string(st.need_rows) + "-1) " + st.label;
    }
    return out + " = " + std::to_string(f.warmup_rows);
  }

  int root_source_frame(int frame) const {
    for (int guard = 0; guard < 1000; ++guard) {
      const StepPlan& producer = plan_.steps[plan_.frames[frame].producer_step];
      if (producer.kind == PluginKind::kData) return frame;
      frame = producer.frame;
    }
    assert(false && "frame chain is acyclic after sorting");
    return frame;
  }

  void sources() {
    const int64_t days = p_.signal.lookback_days;
    for (const auto& st : plan_.steps) {
      if (st.kind != PluginKind::kData || st.output_frame < 0) continue;
      SourcePlan src;
      src.step = st.id;
      src.plugin = st.plugin;
      src.source_name = st.plugin.rfind("data.", 0) == 0 ? st.plugin.substr(5) : st.plugin;
      src.frame = st.output_frame;
      const FramePlan& sf = plan_.frames[src.frame];
      src.interval_ms = sf.interval_ms;
      src.event = sf.event;
      if (st.params.values().count("universe") &&
          std::holds_alternative<std::vector<std::string>>(st.params.values().at("universe")))
        src.universe = st.params.get_string_list("universe");
      src.lookback_bars = days * kDayMs / src.interval_ms;
      int worst = src.frame;
      int64_t worst_ratio = 1;
      for (size_t fi = 0; fi < plan_.frames.size(); ++fi) {
        if (root_source_frame(static_cast<int>(fi)) != src.frame) continue;
        const FramePlan& f = plan_.frames[fi];
        const int64_t ratio = (f.interval_ms + src.interval_ms - 1) / src.interval_ms;
        if (f.warmup_rows * ratio > src.warmup_bars) {
          src.warmup_bars = f.warmup_rows * ratio;
          worst = static_cast<int>(fi);
          worst_ratio = ratio;
        }
      }
      if (src.warmup_bars > src.lookback_bars) {
        const FramePlan& f = plan_.frames[worst];
        const std::string unit = interval_name(src.interval_ms);
        std::string msg = "lookback_days " + std::to_string(days) + " gives " + std::to_string(days) + " x " +
                          std::to_string(kDayMs / src.interval_ms) + " = " + std::to_string(src.lookback_bars) +
                          " bars of " + unit + ", but frame '" + f.name + "' needs " + std::to_string(f.warmup_rows) +
                          " rows";
        if (worst_ratio != 1)
          msg += " of " + interval_name(f.interval_ms) + " = " + std::to_string(f.warmup_rows) + " x " +
                 std::to_string(worst_ratio) + " = " + std::to_string(src.warmup_bars) + " bars of " + unit;
        const int64_t min_days = (src.warmup_bars * src.interval_ms + kDayMs - 1) / kDayMs;
        msg += " (" + warmup_arithmetic(f) + "); lookback_days must be at least " + std::to_string(min_days);
        error(p_.signal.lookback_mark, "signal_generation.warmup.lookback_days", msg);
      }
      // Exponential memories: warn when the lookback covers less than 10x their window.
      for (const auto& other : plan_.steps) {
        if (other.frame < 0 || root_source_frame(other.frame) != src.frame || !other.descriptor->settling_window)
          continue;
        const int64_t settle = other.descriptor->settling_window(other.params);
        if (settle <= 0) continue;
        const FramePlan& f = plan_.frames[other.frame];
        const int64_t rows = days * kDayMs / f.interval_ms;
        if (rows < 10 * settle)
          warning(other.mark, other.label,
                  "lookback_days " + std::to_string(days) + " gives " + std::to_string(rows) + " rows of " +
                      interval_name(f.interval_ms) + " on frame '" + f.name + "', less than 10 x " +
                      std::to_string(settle) + " = " + std::to_string(10 * settle) + " for " + other.plugin +
                      " to settle; its first values depend on where the history starts");
      }
      plan_.sources.push_back(std::move(src));
    }
  }

  void prediction() {
    const auto& sg = p_.signal;
    std::string column;
    SourceMark mark;
    std::string path;
    int frame = -1;
    if (sg.output_col) {
      column = sg.output_col->value;
      mark = sg.output_col->mark;
      path = "signal_generation.output_col";
      // A bare column name; `frame.column` picks the frame when several have it.
      std::vector<int> holders;
      for (size_t f = 0; f < plan_.frames.size(); ++f) {
        const auto& cols = plan_.frames[f].columns;
        if (std::find(cols.begin(), cols.end(), column) != cols.end()) holders.push_back(static_cast<int>(f));
      }
      if (holders.empty()) {
        const size_t dot = column.find('.');
        if (dot != std::string::npos) {
          const int f = plan_.frame_index(column.substr(0, dot));
          const std::string rest = column.substr(dot + 1);
          if (f >= 0 && std::count(plan_.frames[f].columns.begin(), plan_.frames[f].columns.end(), rest)) {
            holders.push_back(f);
            column = rest;
          }
        }
      }
      if (holders.empty()) {
        std::vector<std::string> all;
        for (const auto& f : plan_.frames)
          for (const auto& c : f.columns) all.push_back(c);
        error(mark, path, "no frame has a column '" + column + "'" + did_you_mean(column, all));
        return;
      }
      frame = holders.front();
      for (int h : holders)
        if (plan_.frames[h].interval_ms == sg.interval_ms) {
          frame = h;
          break;
        }
      for (const auto& st : plan_.steps)
        for (int c : st.output_columns)
          if (st.frame == frame && plan_.frames[frame].columns[c] == column) plan_.prediction_step = st.id;
    } else {
      // The last model in the file is the one whose output is emitted.
      const Node* model_node = nullptr;
      for (const auto& n : nodes_)
        if (n.d->kind == PluginKind::kModel) model_node = &n;
      if (!model_node) {
        error({}, "signal_generation",
              "no prediction column: add a model step or set signal_generation.output_col");
        return;
      }
      const StepPlan* model = &plan_.steps[model_node->order];
      frame = model->frame;
      plan_.prediction_step = model->id;
      path = model->label;
      mark = model->mark;
      if (model->params.has("output_col") &&
          std::holds_alternative<std::string>(model->params.values().at("output_col"))) {
        column = model->params.get_string("output_col");
        path = model->label + ".params.output_col";
        mark = model_node->spec->param_mark("output_col");
      } else if (!model->output_columns.empty()) {
        column = plan_.frames[frame].columns[model->output_columns.front()];
      } else {
        error(mark, path, "the model writes no column to emit");
        return;
      }
      const auto& cols = plan_.frames[frame].columns;
      if (std::find(cols.begin(), cols.end(), column) == cols.end()) {
        std::vector<std::string> outs;
        for (int c : model->output_columns) outs.push_back(cols[c]);
        error(mark, path,
              "output_col '" + column + "' is not a column of frame '" + plan_.frames[frame].name + "'" +
                  did_you_mean(column, outs.empty() ? cols : outs));
        return;
      }
    }
    const FramePlan& f = plan_.frames[frame];
    const auto& cols = f.columns;
    plan_.prediction = {frame, static_cast<int>(std::find(cols.begin(), cols.end(), column) - cols.begin())};
    plan_.prediction_column = column;
    if (sg.interval_ms == 0) {
      plan_.interval_ms = f.interval_ms;  // scheduling.interval not written: the prediction frame's
      return;
    }
    plan_.interval_ms = sg.interval_ms;
    if (f.interval_ms != sg.interval_ms)
      error(sg.interval_mark, "signal_generation.scheduling.interval",
            "the prediction column '" + column + "' is on frame '" + f.name + "' of " + interval_name(f.interval_ms) +
                ", but scheduling.interval is " + interval_name(sg.interval_ms) + "; they must be equal");
  }

  // A step runs on its frame's rows unless its `on:` leaves that event out.
  bool runs_on_rows(const StepPlan& st) const {
    if (st.on.empty()) return true;
    return st.frame >= 0 && std::count(st.on.begin(), st.on.end(), plan_.frames[st.frame].event) > 0;
  }

  void flows() {
    for (size_t fi = 0; fi < plan_.frames.size(); ++fi) {
      Flow flow;
      flow.event = plan_.frames[fi].event;
      flow.frame = static_cast<int>(fi);
      for (const auto& st : plan_.steps)
        if (st.frame == flow.frame && st.kind != PluginKind::kData && runs_on_rows(st)) flow.steps.push_back(st.id);
      if (!flow.steps.empty()) plan_.flows.push_back(std::move(flow));
    }
  }

  // `on:` of model steps (the loader checked the spelling): timers and
  // signal.generated become their own flows; a frame event must be the step's
  // own frame's (a model runs on the newest row of its frame only).
  void subscriptions() {
    for (const auto& st : plan_.steps) {
      const dsl::StepSpec& spec = *nodes_[order_[st.id]].spec;
      if (st.frame < 0) continue;
      const FramePlan& f = plan_.frames[st.frame];
      for (size_t i = 0; i < spec.on.size(); ++i) {
        const auto& ev = spec.on[i];
        const std::string path = spec.label + ".on" + (spec.on.size() > 1 ? "[" + std::to_string(i) + "]" : "");
        if (ev.value == "signal.generated") {
          plan_.signal_subscribers.push_back(st.id);
        } else if (ev.value.rfind("timer.", 0) == 0) {
          const int64_t iv = *parse_interval(ev.value.substr(6));
          if (iv % f.interval_ms != 0) {
            error(ev.mark, path,
                  ev.value + " is not a multiple of the " + interval_name(f.interval_ms) + " bars of frame '" + f.name +
                      "': a timer's predictions are labelled with the frame's bar that closed at the tick's boundary");
            continue;
          }
          auto it = std::find_if(plan_.timers.begin(), plan_.timers.end(),
                                 [&](const TimerFlow& t) { return t.interval_ms == iv; });
          if (it == plan_.timers.end()) {
            plan_.timers.push_back(TimerFlow{ev.value, iv, {}});
            it = plan_.timers.end() - 1;
          }
          it->steps.push_back(st.id);
        } else if (ev.value != f.event) {
          std::vector<std::string> events;
          for (const auto& other : plan_.frames) events.push_back(other.event);
          error(ev.mark, path,
                "'" + ev.value + "' is not the event of frame '" + f.name + "' (" + f.event +
                    "): a model runs on the rows of the frame it reads" + did_you_mean(ev.value, events));
        }
      }
    }
    std::sort(plan_.timers.begin(), plan_.timers.end(),
              [](const TimerFlow& a, const TimerFlow& b) { return a.interval_ms < b.interval_ms; });
  }

  // The steps `st` runs by firing events: the flow of the frame it fills (data,
  // transform), or, for a model, every other step on signal.generated.
  std::vector<int> triggered_by(const StepPlan& st) const {
    std::vector<int> out;
    if (st.kind == PluginKind::kModel) {
      for (int s : plan_.signal_subscribers)
        if (s != st.id) out.push_back(s);
    } else if (st.output_frame >= 0) {
      for (const auto& other : plan_.steps)
        if (other.frame == st.output_frame && other.kind != PluginKind::kData && runs_on_rows(other))
          out.push_back(other.id);
    }
    return out;
  }

  // A step that fires an event it subscribes to, directly or through others,
  // would run forever: one error naming the chain of steps and events.
  void event_loops() {
    const size_t n = plan_.steps.size();
    std::vector<int> state(n, 0);  // 0 unvisited, 1 on the stack, 2 done
    std::vector<int> stack;
    std::function<bool(int)> visit = [&](int s) {
      state[s] = 1;
      stack.push_back(s);
      for (int t : triggered_by(plan_.steps[s])) {
        if (state[t] == 1) {
          auto from = std::find(stack.begin(), stack.end(), t);
          std::string chain;
          for (auto it = from; it != stack.end(); ++it)
            chain += plan_.steps[*it].label + " -> " + fired_event(plan_.steps[*it]) + " -> ";
          chain += plan_.steps[t].label;
          const StepPlan& first = plan_.steps[t];
          error(first.mark, first.label,
                "event loop: " + chain + "; each run fires the event that runs the next, without end");
          return true;
        }
        if (state[t] == 0 && visit(t)) return true;
      }
      stack.pop_back();
      state[s] = 2;
      return false;
    };
    for (size_t s = 0; s < n; ++s)
      if (state[s] == 0 && visit(static_cast<int>(s))) return;
  }

  std::string fired_event(const StepPlan& st) const {
    if (st.kind == PluginKind::kModel) return "signal.generated";
    return st.output_frame >= 0 ? plan_.frames[st.output_frame].event : std::string();
  }

  const dsl::Pipeline& p_;
  const registry::Catalog& catalog_;
  Diagnostics& diags_;
  int errors_ = 0;
  std::vector<Node> nodes_;                     // by source index
  std::vector<int> order_;                      // source indexes in topological order
  std::map<std::string, int> frame_producer_;   // frame -> source index
  std::vector<std::string> frame_names_;        // in source order
  std::map<std::string, std::map<std::string, ColumnSource>> columns_;
  std::vector<int> best_dep_;                   // by plan step id: the dependency on the deepest path
  Plan plan_;
};

}  // namespace

std::optional<Plan> compile(const dsl::Pipeline& pipeline, const registry::Catalog& catalog, Diagnostics& diags) {
  return Compiler(pipeline, catalog, diags).run();
}

}  // namespace af::dag
