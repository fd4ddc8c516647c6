#pragma once
// A small hand-written Catalog for the DSL and compiler tests, shaped like the
// built-in plugins (same names and params) but independent of their code, so
// these tests do not move when the built-ins do. Owns its descriptors.

#include <memory>
#include <string>
#include <vector>

#include "common/interval.hpp"
#include "registry/registry.hpp"

namespace af::testing {

class TestCatalog {
 public:
  TestCatalog() {
    using registry::InputKind;
    using registry::OutputKind;
    using registry::ParamSpec;
    using registry::ParamType;
    using registry::Params;
    using registry::PluginKind;

    for (const char* name : {"data.binance_futures", "data.binance_spot"}) {
      auto& d = add(name, PluginKind::kData);
      d.params = {req("universe", ParamType::kStringList), req("interval", ParamType::kInterval)};
      d.output = OutputKind::kFrame;
      d.frame_interval = [](const Params& p, int64_t, std::string& err) -> std::optional<int64_t> {
        auto ms = parse_interval(p.get_string("interval"));
        if (!ms) err = "bad interval";
        return ms;
      };
    }
    {
      auto& d = add("transforms.resample", PluginKind::kTransform);
      d.params = {req("target_freq", ParamType::kInterval)};
      d.input = InputKind::kFrame;
      d.output = OutputKind::kFrame;
      d.warmup_rows = [](const Params&) { return int64_t{1}; };
      d.frame_interval = [](const Params& p, int64_t in, std::string& err) -> std::optional<int64_t> {
        const int64_t target = *parse_interval(p.get_string("target_freq"));
        if (target < in || target % in != 0) {
          err = "target_freq " + p.get_string("target_freq") + " is not a multiple of the input interval " +
                interval_name(in);
          return std::nullopt;
        }
        return target;
      };
    }
    column_feature("features.rsi", {intp("window", 2, 14)}, [](const Params& p) { return p.get_int("window") + 1; })
        .settling_window = [](const Params& p) { return p.get_int("window"); };
    column_feature("features.momentum", {req_int("window", 1)}, [](const Params& p) { return p.get_int("window") + 1; });
    column_feature("features.sma", {req_int("window", 1)}, [](const Params& p) { return p.get_int("window"); });
    column_feature("features.rocp", {intp("period", 1, 1)}, [](const Params& p) { return p.get_int("period") + 1; });
    {
      ParamSpec factor{"rocp_factor", ParamType::kNumber, false, 1.0};
      column_feature("features.ma_rocp", {req_int("window", 1), intp("rocp_period", 1, 1), factor},
                     [](const Params& p) { return p.get_int("window") + p.get_int("rocp_period"); });
    }
    {
      auto& d = add("features.levels", PluginKind::kFeature);
      d.params = {req_int("window", 1)};
      d.input = InputKind::kBar;
      d.bar_columns = {"high", "low", "close"};
      d.output = OutputKind::kColumns;
      d.min_outputs = 1;
      d.max_outputs = 3;
      d.warmup_rows = [](const Params& p) { return p.get_int("window"); };
    }
    {
      auto& d = add("models.linear", PluginKind::kModel);
      ParamSpec activation{"activation", ParamType::kChoice, false, std::string("none")};
      activation.choices = {"none", "tanh", "sigmoid"};
      d.params = {req("features", ParamType::kStringList), req("weights", ParamType::kNumberList),
                  ParamSpec{"bias", ParamType::kNumber, false, 0.0}, activation,
                  ParamSpec{"output_col", ParamType::kString}};
      d.input = InputKind::kFrame;
      d.output = OutputKind::kColumns;
      d.min_outputs = d.max_outputs = 1;
      d.warmup_rows = [](const Params&) { return int64_t{1}; };
      d.check = [](const Params& p) {
        std::vector<std::string> out;
        if (p.get_string_list("features").size() != p.get_number_list("weights").size())
          out.push_back("features and weights must have the same length");
        return out;
      };
    }
    {
      auto& d = add("models.windowed", PluginKind::kModel);
      d.params = {req_int("window_size", 1), ParamSpec{"output_col", ParamType::kString}};
      d.input = InputKind::kFrame;
      d.output = OutputKind::kColumns;
      d.min_outputs = d.max_outputs = 1;
      d.warmup_rows = [](const Params& p) { return p.get_int("window_size"); };
    }
    {
      auto& d = add("sinks.csv_append", PluginKind::kSink);
      d.params = {req("path", ParamType::kString),
                  ParamSpec{"dedup_key", ParamType::kStringList, false, std::vector<std::string>{"ts", "symbol"}}};
    }
    for (const auto& d : owned_) catalog_.add(d.get());
  }

  const registry::Catalog& catalog() const { return catalog_; }

 private:
  registry::Descriptor& add(const std::string& name, registry::PluginKind kind) {
    owned_.push_back(std::make_unique<registry::Descriptor>());
    owned_.back()->name = name;
    owned_.back()->kind = kind;
    return *owned_.back();
  }
  registry::Descriptor& column_feature(const std::string& name, std::vector<registry::ParamSpec> params,
                                       std::function<int64_t(const registry::Params&)> warmup) {
    auto& d = add(name, registry::PluginKind::kFeature);
    d.params = std::move(params);
    d.input = registry::InputKind::kColumn;
    d.output = registry::OutputKind::kColumns;
    d.min_outputs = d.max_outputs = 1;
    d.warmup_rows = std::move(warmup);
    return d;
  }
  static registry::ParamSpec req(const std::string& name, registry::ParamType type) {
    return registry::ParamSpec{name, type, true};
  }
  static registry::ParamSpec req_int(const std::string& name, double min) {
    registry::ParamSpec s{name, registry::ParamType::kInt, true};
    s.min = min;
    return s;
  }
  static registry::ParamSpec intp(const std::string& name, double min, int64_t def) {
    registry::ParamSpec s{name, registry::ParamType::kInt, false, def};
    s.min = min;
    return s;
  }

  std::vector<std::unique_ptr<registry::Descriptor>> owned_;
  registry::Catalog catalog_;
};

}  // namespace af::testing
