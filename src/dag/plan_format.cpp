#include "dag/plan_format.hpp"

#include <algorithm>

#include "common/interval.hpp"

namespace af::dag {
namespace {

// (name, value) of a step's params: in the descriptor's declaration order when
// known (the order a reader of the plugin docs expects), else by name.
std::vector<std::pair<std::string, const registry::ParamValue*>> ordered_params(
    const registry::Params& params, const registry::Descriptor* d) {
  std::vector<std::pair<std::string, const registry::ParamValue*>> out;
  const auto& values = params.values();
  if (d) {
    for (const auto& spec : d->params) {
      auto it = values.find(spec.name);
      if (it != values.end() && !std::holds_alternative<std::monostate>(it->second)) out.emplace_back(it->first, &it->second);
    }
    for (const auto& [k, v] : values) {
      const bool listed = std::any_of(out.begin(), out.end(), [&](const auto& p) { return p.first == k; });
      if (!listed && !std::holds_alternative<std::monostate>(v)) out.emplace_back(k, &v);
    }
    return out;
  }
  for (const auto& [k, v] : values)
    if (!std::holds_alternative<std::monostate>(v)) out.emplace_back(k, &v);
  return out;
}

// A secret param (ParamSpec::secret) is shown as kRedacted wherever a plan is
// shown, and so never reaches the fingerprint either (it hashes format_plan).
bool is_secret(const registry::Descriptor* d, const std::string& name) {
  if (!d) return false;
  return std::any_of(d->params.begin(), d->params.end(),
                     [&](const registry::ParamSpec& s) { return s.secret && s.name == name; });
}

// `order`: the descriptor whose declaration order to follow (nullptr: by name, as
// sinks have always been shown); `schema`: the one that says which are secret.
std::string params_text(const registry::Params& params, const registry::Descriptor* order,
                        const registry::Descriptor* schema) {
  std::string out;
  for (const auto& [k, v] : ordered_params(params, order)) {
    if (!out.empty()) out += ' ';
    out += k;
    out += '=';
    out += is_secret(schema, k) ? std::string(registry::kRedacted) : registry::format_param_value(*v);
  }
  return out;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string column_name(const Plan& plan, const ColumnRef& ref) {
  if (ref.frame < 0 || ref.column < 0) return "?";
  return plan.frames[ref.frame].columns[ref.column];
}

nlohmann::json param_json(const registry::ParamValue& v) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(bool b) const { return b; }
    nlohmann::json operator()(int64_t i) const { return i; }
    nlohmann::json operator()(double d) const { return d; }
    nlohmann::json operator()(const std::string& s) const { return s; }
    nlohmann::json operator()(const std::vector<std::string>& l) const { return l; }
    nlohmann::json operator()(const std::vector<double>& l) const { return l; }
  };
  return std::visit(Visitor{}, v);
}

nlohmann::json params_json(const registry::Params& params, const registry::Descriptor* order,
                           const registry::Descriptor* schema) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : ordered_params(params, order))
    out[k] = is_secret(schema, k) ? nlohmann::json(registry::kRedacted) : param_json(*v);
  return out;
}

}  // namespace

std::string format_plan(const Plan& plan) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  line("pipeline: " + plan.name);
  line("file: " + plan.file);
  line("lookback_days: " + std::to_string(plan.lookback_days));
  line("interval: " + interval_name(plan.interval_ms));
  line("buffer_minutes: " + std::to_string(plan.buffer_minutes));
  line("coarsest_interval: " + interval_name(plan.coarsest_interval_ms));

  line("frames:");
  for (const auto& f : plan.frames) {
    line("  " + f.name + ": interval " + interval_name(f.interval_ms) + ", event " + f.event + ", warmup " +
         std::to_string(f.warmup_rows) + " rows, capacity " + std::to_string(f.capacity) + " rows");
    line("    columns: " + join(f.columns, " "));
  }

  line("sources:");
  for (const auto& s : plan.sources) {
    line("  " + s.plugin + " -> " + plan.frames[s.frame].name + " (" + interval_name(s.interval_ms) + "): universe [" +
         join(s.universe, ", ") + "], warmup " + std::to_string(s.warmup_bars) + " bars, lookback " +
         std::to_string(s.lookback_bars) + " bars");
  }

  auto step_lines = [&](int id) {
      const StepPlan& st = plan.steps[id];
      std::string text = "    #" + std::to_string(st.id) + " " + st.plugin + " " + st.label;
      const std::string params = params_text(st.params, st.descriptor, st.descriptor);
      if (!params.empty()) text += ": " + params;
      if (st.model_ref) text += " model_ref=" + *st.model_ref;
      if (!st.on.empty()) text += " on=[" + join(st.on, ", ") + "]";
      line(text);
      std::vector<std::string> inputs;
      for (const auto& ref : st.inputs) inputs.push_back(column_name(plan, ref));
      std::vector<std::string> outputs;
      for (int c : st.output_columns) outputs.push_back(plan.frames[st.frame].columns[c]);
      std::string io = "       in [" + join(inputs, " ") + "] out ";
      if (st.output_frame >= 0) {
        io += "frame ";
        io += plan.frames[st.output_frame].name;
      } else {
        io += '[';
        io += join(outputs, " ");
        io += ']';
      }
      io += ", needs " + std::to_string(st.need_rows) + ", valid after " + std::to_string(st.valid_after_rows) + " rows";
      line(io);
  };
  line("flows:");
  for (const auto& flow : plan.flows) {
    line("  " + flow.event + " (frame " + plan.frames[flow.frame].name + "):");
    for (int id : flow.steps) step_lines(id);
  }
  for (const auto& timer : plan.timers) {
    line("  " + timer.event + " (every " + interval_name(timer.interval_ms) + " + " +
         std::to_string(plan.buffer_minutes) + " min, every symbol):");
    for (int id : timer.steps) step_lines(id);
  }
  if (!plan.signal_subscribers.empty()) {
    line("  signal.generated (after each model's prediction, that symbol):");
    for (int id : plan.signal_subscribers) step_lines(id);
  }

  if (plan.prediction.frame >= 0)
    line("prediction: " + plan.frames[plan.prediction.frame].name + "." + plan.prediction_column + " (" +
         interval_name(plan.frames[plan.prediction.frame].interval_ms) + ")");

  line("sinks:");
  for (const auto& s : plan.sinks) {
    std::string text = "  " + s.plugin.value + " " + s.path;
    const std::string params = params_text(s.params, nullptr, s.descriptor);
    if (!params.empty()) text += ": " + params;
    line(text);
  }
  if (!plan.plugin_paths.empty()) line("plugins: " + join(plan.plugin_paths, " "));
  if (!plan.warnings.empty()) {
    line("warnings:");
    for (const auto& w : plan.warnings) line("  " + w.to_string());
  }
  return out;
}

nlohmann::json plan_to_json(const Plan& plan) {
  using nlohmann::json;
  json j;
  j["name"] = plan.name;
  j["file"] = plan.file;
  j["lookback_days"] = plan.lookback_days;
  j["interval"] = interval_name(plan.interval_ms);
  j["interval_ms"] = plan.interval_ms;
  j["buffer_minutes"] = plan.buffer_minutes;
  j["coarsest_interval_ms"] = plan.coarsest_interval_ms;

  j["frames"] = json::array();
  for (const auto& f : plan.frames) {
    j["frames"].push_back({{"name", f.name},
                           {"interval", interval_name(f.interval_ms)},
                           {"interval_ms", f.interval_ms},
                           {"event", f.event},
                           {"producer_step", f.producer_step},
                           {"warmup_rows", f.warmup_rows},
                           {"warmup_step", f.warmup_step},
                           {"capacity", f.capacity},
                           {"columns", f.columns}});
  }

  j["sources"] = json::array();
  for (const auto& s : plan.sources) {
    j["sources"].push_back({{"step", s.step},
                            {"plugin", s.plugin},
                            {"source", s.source_name},
                            {"frame", plan.frames[s.frame].name},
                            {"interval", interval_name(s.interval_ms)},
                            {"event", s.event},
                            {"universe", s.universe},
                            {"warmup_bars", s.warmup_bars},
                            {"lookback_bars", s.lookback_bars}});
  }

  j["steps"] = json::array();
  for (const auto& st : plan.steps) {
    json step{{"id", st.id},
              {"label", st.label},
              {"path", st.path},
              {"line", st.mark.line},
              {"column", st.mark.column},
              {"kind", registry::plugin_kind_name(st.kind)},
              {"plugin", st.plugin},
              {"params", params_json(st.params, st.descriptor, st.descriptor)},
              {"frame", st.frame >= 0 ? json(plan.frames[st.frame].name) : json(nullptr)},
              {"need_rows", st.need_rows},
              {"valid_after_rows", st.valid_after_rows}};
    if (st.model_ref) step["model_ref"] = *st.model_ref;
    if (!st.on.empty()) step["on"] = st.on;
    json inputs = json::array();
    for (const auto& ref : st.inputs) inputs.push_back(column_name(plan, ref));
    step["inputs"] = inputs;
    if (st.output_frame >= 0) {
      step["output_frame"] = plan.frames[st.output_frame].name;
    } else {
      json outputs = json::array();
      for (int c : st.output_columns) outputs.push_back(plan.frames[st.frame].columns[c]);
      step["output_columns"] = outputs;
    }
    j["steps"].push_back(std::move(step));
  }

  j["flows"] = json::array();
  for (const auto& flow : plan.flows)
    j["flows"].push_back({{"event", flow.event}, {"frame", plan.frames[flow.frame].name}, {"steps", flow.steps}});
  for (const auto& timer : plan.timers)
    j["flows"].push_back({{"event", timer.event}, {"frame", nullptr}, {"steps", timer.steps}});
  if (!plan.signal_subscribers.empty())
    j["flows"].push_back({{"event", "signal.generated"}, {"frame", nullptr}, {"steps", plan.signal_subscribers}});

  if (plan.prediction.frame >= 0) {
    j["prediction"] = {{"frame", plan.frames[plan.prediction.frame].name}, {"column", plan.prediction_column}};
  } else {
    j["prediction"] = nullptr;
  }

  j["sinks"] = json::array();
  for (const auto& s : plan.sinks)
    j["sinks"].push_back({{"plugin", s.plugin.value}, {"path", s.path}, {"params", params_json(s.params, nullptr, s.descriptor)}});
  j["plugin_paths"] = plan.plugin_paths;
  j["warnings"] = json::array();
  for (const auto& w : plan.warnings) j["warnings"].push_back(w.to_string());
  return j;
}

}  // namespace af::dag
