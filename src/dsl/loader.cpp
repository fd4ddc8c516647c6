#include "dsl/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <yaml-cpp/depthguard.h>

#include "common/did_you_mean.hpp"
#include "common/interval.hpp"
#include "dsl/expand.hpp"
#include "dsl/limits.hpp"
#include "dsl/param_check.hpp"
#include "dsl/yaml_util.hpp"

namespace af::dsl {

const std::vector<std::string>& known_capabilities() {
  static const std::vector<std::string> kPacks{"shared", "middlefreq"};
  return kPacks;
}

namespace {

using registry::Descriptor;
using registry::InputKind;
using registry::OutputKind;
using registry::PluginKind;

const std::vector<std::string> kTopKeys{"name", "description", "using", "expand", "signal_generation", "pipeline"};
const std::vector<std::string> kUsingKeys{"capabilities", "plugins"};
const std::vector<std::string> kSignalKeys{"mode", "warmup", "scheduling", "on_prediction", "output_col"};
const std::vector<std::string> kWarmupKeys{"lookback_days"};
const std::vector<std::string> kSchedulingKeys{"interval", "buffer_minutes"};
const std::vector<std::string> kSinkKeys{"using", "params"};
const std::vector<std::string> kSections{"data", "transform", "features", "model"};
const std::vector<std::string> kStepKeys{"using", "inputs", "outputs", "params", "on"};
const std::vector<std::string> kInputKeys{"column", "frame", "model_ref"};
const std::vector<std::string> kOutputKeys{"columns", "frame"};

PluginKind section_kind(const std::string& section) {
  if (section == "data") return PluginKind::kData;
  if (section == "transform") return PluginKind::kTransform;
  if (section == "features") return PluginKind::kFeature;
  return PluginKind::kModel;
}

std::string section_of(PluginKind kind) {
  switch (kind) {
    case PluginKind::kData: return "data";
    case PluginKind::kTransform: return "transform";
    case PluginKind::kFeature: return "features";
    case PluginKind::kModel: return "model";
    case PluginKind::kSink: return "signal_generation.on_prediction";
  }
  return "?";
}

// One `${expand.NAME}` list with where it was declared.
struct ExpandList {
  std::vector<YAML::Node> values;
  SourceMark mark;
};

// Loads one document; owns nothing beyond the call. The order of the checks
// follows the document's structure so that diagnostics read top to bottom.
class Loader {
 public:
  Loader(const std::string& file, const registry::Catalog& catalog, Diagnostics& diags)
      : file_(file), catalog_(catalog), diags_(diags) {}

  void run(const YAML::Node& root) {
    pipeline_.file = file_;
    if (!root.IsMap()) {
      error(mark_of(root, {1, 1}), "", "a pipeline must be a mapping of keys (name, signal_generation, pipeline, ...), got " +
                                          describe(root));
      return;
    }
    const SourceMark root_mark = mark_of(root, {1, 1});
    std::vector<std::string> suggested;
    auto entries = map_entries(root, kTopKeys, file_, "", diags_, &suggested);
    // A misspelled key already says what is missing.
    auto missing = [&](const std::string& key) {
      if (std::find(suggested.begin(), suggested.end(), key) == suggested.end())
        error(root_mark, "", "missing required key '" + key + "'");
    };

    if (auto* e = find_entry(entries, "name")) {
      if (auto s = string_value(*e, "name")) pipeline_.name = s->value;
    } else {
      missing("name");
    }
    if (auto* e = find_entry(entries, "description")) string_value(*e, "description");
    if (auto* e = find_entry(entries, "using")) load_using(*e);
    if (auto* e = find_entry(entries, "expand")) load_expand(*e);
    if (auto* e = find_entry(entries, "signal_generation")) {
      load_signal(*e);
    } else {
      missing("signal_generation");
    }
    if (auto* e = find_entry(entries, "pipeline")) {
      load_pipeline(*e);
    } else {
      missing("pipeline");
    }
    for (size_t i = 0; i < expand_names_.size(); ++i)
      if (!expand_used_.count(expand_names_[i]))
        pipeline_.unused_expand.push_back({expand_names_[i], expand_marks_[i]});
  }

  Pipeline take() { return std::move(pipeline_); }
  // Errors reported by params checks whose step was kept (or whose sink alone was
  // left out): a pipeline with no other error still goes to the compiler.
  size_t param_errors() const { return param_errors_; }

 private:
  void error(SourceMark mark, const std::string& path, const std::string& message) {
    diags_.error(file_, mark, path, message);
  }

  std::optional<Located<std::string>> string_value(const KeyedNode& e, const std::string& path) {
    if (!e.value.IsScalar()) {
      error(e.value_mark, path, "expects a string, got " + describe(e.value));
      return std::nullopt;
    }
    return Located<std::string>{e.value.Scalar(), e.value_mark};
  }

  // `suggested` receives the keys suggested for misspelled ones (see missing_key).
  std::optional<std::vector<KeyedNode>> sub_map(const KeyedNode& e, const std::vector<std::string>& allowed,
                                                const std::string& path,
                                                std::vector<std::string>* suggested = nullptr) {
    if (!e.value.IsMap()) {
      error(e.value_mark, path, "expects a mapping, got " + describe(e.value));
      return std::nullopt;
    }
    return map_entries(e.value, allowed, file_, path, diags_, suggested);
  }

  // Reports a missing required key, unless a misspelling of it in the same map
  // was reported already (that error says it all).
  void missing_key(const std::vector<std::string>& suggested, SourceMark mark, const std::string& path,
                   const std::string& key, const std::string& hint = "") {
    if (std::find(suggested.begin(), suggested.end(), key) != suggested.end()) return;
    error(mark, path, "missing required key '" + key + "'" + hint);
  }

  // A list of strings; each element with its position.
  std::optional<std::vector<Located<std::string>>> string_list(const KeyedNode& e, const std::string& path) {
    if (!e.value.IsSequence()) {
      error(e.value_mark, path, "expects a list of strings, got " + describe(e.value));
      return std::nullopt;
    }
    std::vector<Located<std::string>> out;
    bool ok = true;
    for (size_t i = 0; i < e.value.size(); ++i) {
      const YAML::Node item = e.value[i];
      const SourceMark m = mark_of(item, e.value_mark);
      if (!item.IsScalar()) {
        error(m, path + "[" + std::to_string(i) + "]", "expects a string, got " + describe(item));
        ok = false;
        continue;
      }
      out.push_back({item.Scalar(), m});
    }
    if (!ok) return std::nullopt;
    return out;
  }

  // An int in [min, max]; `unit` names what max is in words ("ten years").
  std::optional<int64_t> int_value(const KeyedNode& e, const std::string& path, int64_t min, int64_t max,
                                   const std::string& unit) {
    auto v = as_int(e.value);
    if (!v && !is_integer_text(e.value)) {
      error(e.value_mark, path, "expects an int, got " + describe(e.value));
      return std::nullopt;
    }
    if (!v || *v < min || *v > max) {
      error(e.value_mark, path,
            "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (" + unit + "), got " +
                e.value.Scalar());
      return std::nullopt;
    }
    return v;
  }

  void load_using(const KeyedNode& e) {
    auto entries = sub_map(e, kUsingKeys, "using");
    if (!entries) return;
    if (auto* c = find_entry(*entries, "capabilities")) {
      if (auto list = string_list(*c, "using.capabilities")) {
        for (size_t i = 0; i < list->size(); ++i) {
          const auto& cap = (*list)[i];
          const auto& known = known_capabilities();
          if (std::find(known.begin(), known.end(), cap.value) == known.end()) {
            error(cap.mark, "using.capabilities[" + std::to_string(i) + "]",
                  "unknown capability '" + cap.value + "' (known: shared, middlefreq)" + did_you_mean(cap.value, known));
            continue;
          }
          pipeline_.capabilities.push_back(cap.value);
        }
      }
    }
    if (auto* p = find_entry(*entries, "plugins")) {
      if (auto list = string_list(*p, "using.plugins")) pipeline_.plugin_paths = std::move(*list);
    }
  }

  void load_expand(const KeyedNode& e) {
    auto entries = sub_map(e, {}, "expand");
    if (!entries) return;
    for (const auto& item : *entries) {
      const std::string path = "expand." + item.key;
      if (!item.value.IsSequence()) {
        error(item.value_mark, path, "expects a list of values, got " + describe(item.value));
        continue;
      }
      if (item.value.size() == 0) {
        error(item.value_mark, path, "is empty: a step expanded over it would vanish");
        continue;
      }
      ExpandList list{{}, item.key_mark};
      bool ok = true;
      for (size_t i = 0; i < item.value.size(); ++i) {
        if (!item.value[i].IsScalar()) {
          error(mark_of(item.value[i], item.value_mark), path + "[" + std::to_string(i) + "]",
                "expects a single value, got " + describe(item.value[i]));
          ok = false;
        }
        list.values.push_back(item.value[i]);
      }
      if (ok) expand_[item.key] = std::move(list);
      expand_names_.push_back(item.key);
      expand_marks_.push_back(item.key_mark);
    }
  }

  void load_signal(const KeyedNode& e) {
    std::vector<std::string> suggested;
    auto entries = sub_map(e, kSignalKeys, "signal_generation", &suggested);
    if (!entries) return;
    SignalGeneration& sg = pipeline_.signal;
    if (auto* m = find_entry(*entries, "mode")) {
      if (auto s = string_value(*m, "signal_generation.mode")) {
        if (s->value != "stream")
          error(s->mark, "signal_generation.mode",
                "unsupported mode '" + s->value + "' (only 'stream')" + did_you_mean(s->value, {"stream"}));
        sg.mode = s->value;
      }
    }
    if (auto* w = find_entry(*entries, "warmup")) {
      std::vector<std::string> warmup_suggested;
      if (auto we = sub_map(*w, kWarmupKeys, "signal_generation.warmup", &warmup_suggested)) {
        if (auto* l = find_entry(*we, "lookback_days")) {
          sg.lookback_mark = l->value_mark;
          if (auto v = int_value(*l, "signal_generation.warmup.lookback_days", 1, kMaxLookbackDays, "ten years"))
            sg.lookback_days = *v;
        } else {
          missing_key(warmup_suggested, w->key_mark, "signal_generation.warmup", "lookback_days");
        }
      }
    } else {
      missing_key(suggested, e.key_mark, "signal_generation", "warmup", " (with lookback_days)");
    }
    if (auto* s = find_entry(*entries, "scheduling")) {
      // Both keys are optional, as in the original: the interval is then the
      // prediction frame's (the compiler fills it in), buffer_minutes 0.
      if (auto se = sub_map(*s, kSchedulingKeys, "signal_generation.scheduling")) {
        if (auto* i = find_entry(*se, "interval")) {
          sg.interval_mark = i->value_mark;
          if (auto v = string_value(*i, "signal_generation.scheduling.interval")) {
            if (auto ms = parse_interval(v->value)) {
              sg.interval = v->value;
              sg.interval_ms = *ms;
            } else {
              // The whole set is short enough to list; an edit-distance guess
              // among two-letter names ("1w" -> "1s") would mislead.
              std::string list;
              for (auto n : binance_interval_names()) {
                if (!list.empty()) list += ' ';
                list += n;
              }
              error(v->mark, "signal_generation.scheduling.interval",
                    "'" + v->value + "' is not a Binance interval (one of " + list + ")");
            }
          }
        }
        if (auto* b = find_entry(*se, "buffer_minutes")) {
          if (auto v = int_value(*b, "signal_generation.scheduling.buffer_minutes", 0, kMaxBufferMinutes, "one day"))
            sg.buffer_minutes = *v;
        }
      }
    }
    sg.mark = e.key_mark;
    if (auto* o = find_entry(*entries, "on_prediction")) load_sinks(*o);
    if (auto* o = find_entry(*entries, "output_col")) sg.output_col = string_value(*o, "signal_generation.output_col");
  }

  void load_sinks(const KeyedNode& e) {
    if (!e.value.IsSequence()) {
      error(e.value_mark, "signal_generation.on_prediction", "expects a list of sinks, got " + describe(e.value));
      return;
    }
    pipeline_.signal.sinks_written = e.value.size();
    for (size_t i = 0; i < e.value.size(); ++i) {
      const std::string path = "signal_generation.on_prediction[" + std::to_string(i) + "]";
      const YAML::Node item = e.value[i];
      const SourceMark mark = mark_of(item, e.value_mark);
      if (!item.IsMap()) {
        error(mark, path, "expects a mapping {using, params}, got " + describe(item));
        continue;
      }
      std::vector<std::string> suggested;
      auto entries = map_entries(item, kSinkKeys, file_, path, diags_, &suggested);
      SinkSpec sink;
      sink.path = path;
      const KeyedNode* u = find_entry(entries, "using");
      if (!u) {
        missing_key(suggested, mark, path, "using");
        continue;
      }
      auto name = string_value(*u, path + ".using");
      if (!name) continue;
      sink.plugin = *name;
      if (catalog_.sink_plugins_unloaded() && !catalog_.find(name->value)) {
        diags_.warning(file_, name->mark, path + ".using",
                       "'" + name->value + "' is not a built-in sink: if a plugin of using.plugins provides it, its "
                       "params are checked when replay or signal loads the plugin (validate never loads plugins)");
        continue;
      }
      const Descriptor* d = find_plugin(*name, PluginKind::kSink, "sink", path + ".using");
      if (!d) continue;
      sink.descriptor = d;
      std::vector<ParamInput> given;
      SourceMark params_mark = mark;
      if (const KeyedNode* p = find_entry(entries, "params")) {
        params_mark = p->key_mark;
        if (auto pe = sub_map(*p, {}, path + ".params"))
          for (const auto& x : *pe) given.push_back({x.key, x.key_mark, x.value, x.value_mark});
      }
      std::vector<std::pair<std::string, SourceMark>> marks;
      const size_t errors_before = diags_.errors().size();
      if (check_params(*d, given, params_mark, file_, path + ".params", sink.params, marks, diags_)) {
        sink.param_marks = std::move(marks);
        pipeline_.signal.sinks.push_back(std::move(sink));
      } else {
        param_errors_ += diags_.errors().size() - errors_before;
      }
    }
  }

  // The descriptor of `name` if it exists and is of `kind`; reports otherwise.
  const Descriptor* find_plugin(const Located<std::string>& name, PluginKind kind, const std::string& section,
                                const std::string& path) {
    const Descriptor* d = catalog_.find(name.value);
    if (!d) {
      std::string hint = did_you_mean(name.value, catalog_.names(kind));
      if (hint.empty()) hint = did_you_mean(name.value, catalog_.all_names());
      error(name.mark, path, "unknown " + section + " plugin '" + name.value + "'" + hint);
      return nullptr;
    }
    if (d->kind != kind) {
      error(name.mark, path,
            "'" + name.value + "' is a " + registry::plugin_kind_name(d->kind) + " plugin; it belongs in a '" +
                section_of(d->kind) + "' step, not in '" + section + "'");
      return nullptr;
    }
    return d;
  }

  void load_pipeline(const KeyedNode& e) {
    if (!e.value.IsSequence()) {
      error(e.value_mark, "pipeline", "expects a list of steps, got " + describe(e.value));
      return;
    }
    for (size_t i = 0; i < e.value.size(); ++i) {
      const std::string index_path = "pipeline[" + std::to_string(i) + "]";
      const YAML::Node item = e.value[i];
      const SourceMark mark = mark_of(item, e.value_mark);
      if (!item.IsMap() || item.size() != 1) {
        error(mark, index_path,
              "a step is a mapping with exactly one key (data, transform, features or model), got " + describe(item) +
                  (item.IsMap() ? " of " + std::to_string(item.size()) + " keys" : ""));
        continue;
      }
      auto entries = map_entries(item, kSections, file_, index_path, diags_);
      if (entries.empty()) continue;
      load_step(entries.front(), index_path + "." + entries.front().key);
    }
  }

  // The unexpanded parts of one step, read once and shared by every expansion.
  struct RawStep {
    std::string section;
    std::string path;
    SourceMark mark;
    Located<std::string> plugin;
    const Descriptor* descriptor = nullptr;
    std::vector<KeyedNode> inputs;
    SourceMark inputs_mark;
    bool has_inputs = false;
    std::vector<KeyedNode> outputs;
    SourceMark outputs_mark;
    bool has_outputs = false;
    std::vector<KeyedNode> params;
    SourceMark params_mark;
    std::vector<Located<std::string>> on;  // `on:` events, checked by check_subscriptions
    // Keys suggested for misspelled ones, per map (see missing_key).
    std::vector<std::string> suggested, inputs_suggested, outputs_suggested;
  };

  // `on: EVENT` or `on: [EVENT, ...]` (a model step's subscriptions, DESIGN §2):
  // each a timer (`timer.<interval>`), `signal.generated`, or a frame's event
  // (checked against the frames by the compiler). Other sections have no `on`:
  // a feature or a transform runs on every row of its frame, or its state would
  // see a row twice.
  std::vector<Located<std::string>> load_subscriptions(const KeyedNode& e, const std::string& section,
                                                       const std::string& path) {
    if (section != "model") {
      error(e.key_mark, path,
            "only a model step can subscribe to events; a " + section +
                " step runs on every row of its frame (a feature's or transform's state must see each row once)");
      return {};
    }
    std::vector<Located<std::string>> events;
    if (e.value.IsScalar()) {
      events.push_back({e.value.Scalar(), e.value_mark});
    } else if (auto list = string_list(e, path)) {
      events = std::move(*list);
    } else {
      return {};
    }
    if (events.empty()) error(e.value_mark, path, "expects at least one event");
    std::vector<Located<std::string>> out;
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& ev = events[i];
      const std::string item_path = e.value.IsScalar() ? path : path + "[" + std::to_string(i) + "]";
      if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.value == ev.value; })) {
        error(ev.mark, item_path, "event '" + ev.value + "' is listed twice");
        continue;
      }
      if (ev.value.rfind("timer.", 0) == 0) {
        if (!parse_interval(ev.value.substr(6))) {
          std::vector<std::string> timers;
          for (auto name : binance_interval_names()) timers.push_back("timer." + std::string(name));
          error(ev.mark, item_path,
                "unknown timer '" + ev.value + "': a timer is timer.<interval> with one of Binance's intervals" +
                    did_you_mean(ev.value, timers));
          continue;
        }
      } else if (ev.value != "signal.generated" && ev.value.rfind("data.", 0) != 0 &&
                 ev.value.rfind("frame.", 0) != 0) {
        error(ev.mark, item_path,
              "unknown event '" + ev.value + "': a step subscribes to timer.<interval>, signal.generated or its "
              "frame's event (data.<source>_<interval> or frame.<name>)" +
                  did_you_mean(ev.value, {"signal.generated", "timer.1h"}));
        continue;
      }
      out.push_back(ev);
    }
    return out;
  }

  void load_step(const KeyedNode& e, const std::string& path) {
    RawStep raw;
    raw.section = e.key;
    raw.path = path;
    raw.mark = e.key_mark;
    if (!e.value.IsMap()) {
      error(e.value_mark, path, "expects a mapping {using, inputs, outputs, params}, got " + describe(e.value));
      return;
    }
    auto entries = map_entries(e.value, kStepKeys, file_, path, diags_, &raw.suggested);
    const KeyedNode* u = find_entry(entries, "using");
    if (!u) {
      missing_key(raw.suggested, raw.mark, path, "using");
      return;
    }
    auto name = string_value(*u, path + ".using");
    if (!name) return;
    raw.plugin = *name;
    raw.descriptor = find_plugin(*name, section_kind(raw.section), raw.section, path + ".using");

    raw.params_mark = raw.mark;
    if (const KeyedNode* p = find_entry(entries, "params")) {
      raw.params_mark = p->key_mark;
      if (auto pe = sub_map(*p, {}, path + ".params")) raw.params = std::move(*pe);
    }
    if (const KeyedNode* on = find_entry(entries, "on")) raw.on = load_subscriptions(*on, raw.section, path + ".on");
    if (const KeyedNode* in = find_entry(entries, "inputs")) {
      raw.inputs_mark = in->key_mark;
      if (auto ie = sub_map(*in, kInputKeys, path + ".inputs", &raw.inputs_suggested)) {
        raw.inputs = std::move(*ie);
        raw.has_inputs = true;
      }
    }
    if (const KeyedNode* out = find_entry(entries, "outputs")) {
      raw.outputs_mark = out->key_mark;
      if (auto oe = sub_map(*out, kOutputKeys, path + ".outputs", &raw.outputs_suggested)) {
        raw.outputs = std::move(*oe);
        raw.has_outputs = true;
      }
    }

    // Expansion axes, in the order the params appear in the step.
    std::vector<ExpandAxis> axes;
    bool axes_ok = true;
    for (const auto& p : raw.params) {
      auto ref = expand_reference(p.value);
      if (!ref) continue;
      expand_used_.insert(*ref);
      auto it = expand_.find(*ref);
      if (it == expand_.end()) {
        // A list that exists but was malformed has been reported already.
        if (std::find(expand_names_.begin(), expand_names_.end(), *ref) == expand_names_.end())
          error(p.value_mark, path + ".params." + p.key,
                "unknown expand list '" + *ref + "'" + did_you_mean(*ref, expand_names_));
        axes_ok = false;
        continue;
      }
      axes.push_back({p.key, it->second.values});
    }
    if (!axes_ok || !raw.descriptor) return;
    if (!expansion_within_bound(raw, axes)) return;

    for (const auto& combo : cartesian_product(axes)) {
      std::vector<std::pair<std::string, std::string>> expansion;
      for (size_t a = 0; a < axes.size(); ++a) expansion.emplace_back(axes[a].param, axes[a].values[combo[a]].Scalar());
      build_step(raw, axes, combo, expansion);
    }
  }

  // The product of the axes' sizes, multiplied only while it stays within the
  // bound (10^12 combinations must be an error, not an allocation).
  bool expansion_within_bound(const RawStep& raw, const std::vector<ExpandAxis>& axes) {
    uint64_t steps = 1;
    std::string sizes;
    bool over = false;
    for (const auto& axis : axes) {
      if (!sizes.empty()) sizes += " x ";
      sizes += axis.param + " (" + std::to_string(axis.values.size()) + " values)";
      if (!over && steps > kMaxExpandedSteps / axis.values.size()) over = true;
      if (!over) steps *= axis.values.size();
    }
    if (!over && steps <= kMaxExpandedSteps) return true;
    error(raw.params_mark, raw.path + ".params",
          "expanding over " + sizes + " would make more than the " + std::to_string(kMaxExpandedSteps) +
              " steps one step may expand to");
    return false;
  }

  void build_step(const RawStep& raw, const std::vector<ExpandAxis>& axes, const std::vector<size_t>& combo,
                  const std::vector<std::pair<std::string, std::string>>& expansion) {
    const Descriptor& d = *raw.descriptor;
    StepSpec step;
    step.section = raw.section;
    step.path = raw.path;
    step.label = raw.path;
    if (!expansion.empty()) {
      step.label += "{";
      for (size_t i = 0; i < expansion.size(); ++i)
        {
        if (i) step.label += ',';
        step.label += expansion[i].first;
        step.label += '=';
        step.label += expansion[i].second;
      }
      step.label += "}";
    }
    step.mark = raw.mark;
    step.plugin = raw.plugin;
    step.expansion = expansion;
    step.on = raw.on;
    bool ok = true;

    // Params, with expanded values substituted.
    std::vector<ParamInput> given;
    for (const auto& p : raw.params) {
      YAML::Node value = p.value;
      for (size_t a = 0; a < axes.size(); ++a)
        if (axes[a].param == p.key) value = axes[a].values[combo[a]];
      given.push_back({p.key, p.key_mark, value, p.value_mark});
    }
    const size_t errors_before = diags_.errors().size();
    step.params_valid =
        check_params(d, given, raw.params_mark, file_, step.label + ".params", step.params, step.param_marks, diags_);
    const size_t step_param_errors = diags_.errors().size() - errors_before;

    // `{param}` in output names: the expanded value's source text, else the
    // param as written, else its default.
    auto lookup = [&](const std::string& name) -> std::optional<std::string> {
      for (const auto& [k, v] : expansion)
        if (k == name) return v;
      for (const auto& p : given)
        if (p.name == name && p.value.IsScalar()) return p.value.Scalar();
      auto it = step.params.values().find(name);
      if (it != step.params.values().end()) return registry::format_param_value(it->second);
      return std::nullopt;
    };
    auto substitute = [&](const Located<std::string>& text, const std::string& path) {
      std::vector<std::string> unresolved;
      std::string out = substitute_braces(text.value, lookup, unresolved);
      for (const auto& u : unresolved) {
        error(text.mark, path, "'{" + u + "}' in '" + text.value + "' names no param of this step");
        ok = false;
      }
      return Located<std::string>{out, text.mark};
    };

    ok &= load_inputs(raw, d, step);

    // Outputs.
    const std::string out_path = step.label + ".outputs";
    const KeyedNode* cols = find_entry(raw.outputs, "columns");
    const KeyedNode* frame = find_entry(raw.outputs, "frame");
    const SourceMark out_mark = raw.has_outputs ? raw.outputs_mark : raw.mark;
    std::vector<std::string> out_suggested = raw.outputs_suggested;
    if (std::count(raw.suggested.begin(), raw.suggested.end(), "outputs"))
      out_suggested.insert(out_suggested.end(), {"columns", "frame"});
    if (d.output == OutputKind::kColumns) {
      if (frame) {
        error(frame->key_mark, out_path + ".frame", d.name + " writes columns on its input frame, not a new frame");
        ok = false;
      }
      if (!cols) {
        missing_key(out_suggested, out_mark, out_path, "columns", " (" + d.name + " writes " + output_count(d) + ")");
        ok = false;
      } else if (auto list = string_list(*cols, out_path + ".columns")) {
        const int n = static_cast<int>(list->size());
        if (n < d.min_outputs || n > d.max_outputs) {
          error(cols->value_mark, out_path + ".columns",
                d.name + " writes " + output_count(d) + ", got " + std::to_string(n));
          ok = false;
        }
        for (size_t i = 0; i < list->size(); ++i)
          step.output_columns.push_back(substitute((*list)[i], out_path + ".columns[" + std::to_string(i) + "]"));
      } else {
        ok = false;
      }
    } else if (d.output == OutputKind::kFrame) {
      if (cols) {
        error(cols->key_mark, out_path + ".columns", d.name + " produces a frame (outputs.frame), not columns");
        ok = false;
      }
      if (!frame) {
        missing_key(out_suggested, out_mark, out_path, "frame", " (" + d.name + " produces a frame)");
        ok = false;
      } else if (auto f = string_value(*frame, out_path + ".frame")) {
        step.output_frame = substitute(*f, out_path + ".frame");
      } else {
        ok = false;
      }
    } else if (raw.has_outputs && !raw.outputs.empty()) {
      error(raw.outputs_mark, out_path, d.name + " has no outputs");
      ok = false;
    }

    // A step whose params alone failed is kept: what it reads and writes is still
    // checked, and the steps reading its columns are not reported for it.
    if (!ok) return;
    if (!step.params_valid) param_errors_ += step_param_errors;
    pipeline_.steps.push_back(std::move(step));
  }

  static std::string output_count(const Descriptor& d) {
    if (d.min_outputs == d.max_outputs)
      return std::to_string(d.min_outputs) + (d.min_outputs == 1 ? " column" : " columns");
    return std::to_string(d.min_outputs) + " to " + std::to_string(d.max_outputs) + " columns";
  }

  bool load_inputs(const RawStep& raw, const Descriptor& d, StepSpec& step) {
    bool ok = true;
    const std::string path = step.label + ".inputs";
    const SourceMark in_mark = raw.has_inputs ? raw.inputs_mark : raw.mark;
    // A misspelled `inputs` key was reported; what it held is not missing too.
    std::vector<std::string> suggested = raw.inputs_suggested;
    if (std::count(raw.suggested.begin(), raw.suggested.end(), "inputs")) suggested.insert(suggested.end(), {"column", "frame"});
    const KeyedNode* column = find_entry(raw.inputs, "column");
    const KeyedNode* frame = find_entry(raw.inputs, "frame");
    const KeyedNode* model_ref = find_entry(raw.inputs, "model_ref");
    auto unexpected = [&](const KeyedNode* e, const std::string& why) {
      if (!e) return;
      error(e->key_mark, path + "." + e->key, d.name + " " + why);
      ok = false;
    };
    switch (d.input) {
      case InputKind::kNone:
        unexpected(column, "takes no inputs");
        unexpected(frame, "takes no inputs");
        break;
      case InputKind::kColumn:
        unexpected(frame, "reads one column (inputs.column: frame.column), not a frame");
        if (!column) {
          missing_key(suggested, in_mark, path, "column", " (frame.column)");
          ok = false;
        } else if (auto c = string_value(*column, path + ".column")) {
          const size_t dot = c->value.find('.');
          if (dot == std::string::npos || dot == 0 || dot + 1 == c->value.size()) {
            error(c->mark, path + ".column", "expects 'frame.column', got '" + c->value + "'" + frame_hint(c->value));
            ok = false;
          } else {
            step.input_column = *c;
          }
        } else {
          ok = false;
        }
        break;
      case InputKind::kBar:
      case InputKind::kFrame:
        unexpected(column, "reads a whole frame (inputs.frame), not one column");
        if (!frame) {
          missing_key(suggested, in_mark, path, "frame");
          ok = false;
        } else if (auto f = string_value(*frame, path + ".frame")) {
          step.input_frame = *f;
        } else {
          ok = false;
        }
        break;
    }
    if (model_ref) {
      if (d.kind != PluginKind::kModel) {
        unexpected(model_ref, "is not a model; model_ref does not apply");
      } else if (auto r = string_value(*model_ref, path + ".model_ref")) {
        step.model_ref = *r;
      } else {
        ok = false;
      }
    }
    return ok;
  }

  // For a bare column name (the habit from pandas): " (did you mean 'ohlcv.close'?)",
  // naming the frame the latest earlier step produced.
  std::string frame_hint(const std::string& written) const {
    if (written.empty() || written.find('.') != std::string::npos) return "";
    for (auto it = pipeline_.steps.rbegin(); it != pipeline_.steps.rend(); ++it)
      if (it->output_frame) return " (did you mean '" + it->output_frame->value + "." + written + "'?)";
    return "";
  }

  const std::string& file_;
  const registry::Catalog& catalog_;
  Diagnostics& diags_;
  Pipeline pipeline_;
  std::map<std::string, ExpandList> expand_;
  std::vector<std::string> expand_names_;
  std::vector<SourceMark> expand_marks_;  // of each name in expand_names_
  std::set<std::string> expand_used_;     // names some step's param refers to
  size_t param_errors_ = 0;
};

}  // namespace

std::optional<Pipeline> load_pipeline_text(std::string_view yaml, const std::string& file_name,
                                           const registry::Catalog& catalog, Diagnostics& diags) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own text for this is "bad file".
    diags.error(file_name, to_mark(e.mark), "",
                "YAML nested too deeply: " + std::to_string(e.depth()) +
                    " levels of lists and mappings reached here, the parser's limit; a pipeline needs a handful");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diags.error(file_name, to_mark(e.mark), "", e.msg);
    return std::nullopt;
  }
  Diagnostics local;
  Loader loader(file_name, catalog, local);
  try {
    loader.run(root);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed documents only when nodes are visited.
    local.error(file_name, to_mark(e.mark), "", e.msg);
  }
  const size_t errors = local.errors().size();
  for (const auto& d : local.items()) diags.add(d);
  if (errors > loader.param_errors()) return std::nullopt;
  Pipeline pipeline = loader.take();
  pipeline.params_valid = errors == 0;
  return pipeline;
}

std::optional<Pipeline> load_pipeline_file(const std::string& path, const registry::Catalog& catalog,
                                           Diagnostics& diags) {
  auto fail = [&](const std::string& why) {
    diags.error(path, {}, "", "cannot read file: " + why);
    return std::nullopt;
  };
  // Only a regular file of bounded size is read: a device (/dev/zero), a FIFO or
  // a huge file would otherwise be read until memory runs out.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return fail(ec.message());
  if (std::filesystem::is_directory(status)) return fail(std::strerror(EISDIR));
  if (!std::filesystem::is_regular_file(status)) return fail("not a regular file");
  const std::string bound =
      " bytes; a pipeline file may have at most " + std::to_string(kMaxPipelineFileBytes) + " bytes";
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return fail(ec.message());
  if (size > kMaxPipelineFileBytes) return fail(std::to_string(size) + bound);
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  // The file may have grown since it was measured: read one byte past the bound.
  std::string text(kMaxPipelineFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return fail(std::strerror(errno));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPipelineFileBytes) return fail("more than " + std::to_string(kMaxPipelineFileBytes) + bound);
  return load_pipeline_text(text, path, catalog, diags);
}

}  // namespace af::dsl
