#include "dsl/param_check.hpp"

#include <algorithm>
#include <cmath>

#include "common/did_you_mean.hpp"
#include "common/interval.hpp"
#include "common/number_format.hpp"
#include "common/symbol.hpp"
#include "dsl/limits.hpp"
#include "dsl/yaml_util.hpp"

#include <nlohmann/json.hpp>

namespace af::dsl {
namespace {

// "[3]". Built by appending: g++ 12 at -O3 warns falsely (-Wrestrict) on
// `"[" + std::to_string(i)`.
std::string index_text(size_t i) {
  std::string out = "[";
  out += std::to_string(i);
  out += ']';
  return out;
}

using registry::ParamSpec;
using registry::ParamType;
using registry::ParamValue;

std::string interval_list() {
  std::string out;
  for (auto n : binance_interval_names()) {
    if (!out.empty()) out += ' ';
    out += n;
  }
  return out;
}

// A bound as a reader writes it: 100000, not 1e+05.
std::string bound_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return format_double(v);
}

// "" when v is within the spec's inclusive bounds, else the reason.
std::string range_problem(const ParamSpec& spec, double v) {
  const bool low = spec.min && v < *spec.min;
  const bool high = spec.max && v > *spec.max;
  if (!low && !high) return {};
  if (spec.min && spec.max) return "must be between " + bound_text(*spec.min) + " and " + bound_text(*spec.max);
  if (low) return "must be >= " + bound_text(*spec.min);
  return "must be <= " + bound_text(*spec.max);
}

struct Checker {
  const ParamSpec& spec;
  const ParamInput& in;
  const std::string& file;
  const std::string& path;  // of this param
  Diagnostics& diags;

  void fail(const std::string& message) { diags.error(file, in.value_mark, path, message); }
  void fail_at(const YAML::Node& n, const std::string& index, const std::string& message) {
    diags.error(file, mark_of(n, in.value_mark), path + index, message);
  }
  void wrong_type(const YAML::Node& n, const std::string& index = "") {
    fail("param '" + spec.name + "'" + index + " expects " + expected() + ", got " + describe(n));
  }
  std::string expected() const {
    switch (spec.type) {
      case ParamType::kInt: return "an int";
      case ParamType::kNumber: return "a number";
      case ParamType::kBool: return "a bool";
      case ParamType::kString: return "a string";
      case ParamType::kInterval: return "an interval";
      case ParamType::kFrequency: return "a frequency";
      case ParamType::kChoice: return "one of " + join_choices();
      case ParamType::kStringList: return "a list of strings";
      case ParamType::kNumberList: return "a list of numbers";
      case ParamType::kSymbolList: return "a list of symbols";
      case ParamType::kMapping: return "a mapping";
    }
    return "?";
  }
  std::string join_choices() const {
    std::string out;
    for (const auto& c : spec.choices) {
      if (!out.empty()) out += '|';
      out += c;
    }
    return out;
  }
  bool in_range(double v, const std::string& index, const std::string& text) {
    const std::string problem = range_problem(spec, v);
    if (problem.empty()) return true;
    fail("param '" + spec.name + "'" + index + " " + problem + ", got " + text);
    return false;
  }

  // A YAML value as JSON: plain scalars typed as the DSL types them (int,
  // number, bool, ~ for null), quoted ones strings. Bounded in depth and nodes.
  std::optional<nlohmann::json> to_json(const YAML::Node& n, int depth, size_t& nodes) {
    if (depth > dsl::kMaxMappingDepth) {
      fail_at(n, "", "param '" + spec.name + "' nests deeper than " + std::to_string(dsl::kMaxMappingDepth) + " levels");
      return std::nullopt;
    }
    if (++nodes > dsl::kMaxMappingNodes) {
      fail_at(n, "", "param '" + spec.name + "' holds more than " + std::to_string(dsl::kMaxMappingNodes) + " values");
      return std::nullopt;
    }
    if (!n.IsDefined() || n.IsNull()) return nlohmann::json(nullptr);
    if (n.IsSequence()) {
      nlohmann::json out = nlohmann::json::array();
      for (size_t i = 0; i < n.size(); ++i) {
        auto v = to_json(n[i], depth + 1, nodes);
        if (!v) return std::nullopt;
        out.push_back(std::move(*v));
      }
      return out;
    }
    if (n.IsMap()) {
      nlohmann::json out = nlohmann::json::object();
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (!it->first.IsScalar()) {
          fail_at(it->first, "", "param '" + spec.name + "': a key must be a plain name, got " + describe(it->first));
          return std::nullopt;
        }
        const std::string& key = it->first.Scalar();
        if (out.contains(key)) {
          fail_at(it->first, "", "param '" + spec.name + "': duplicate key '" + key + "'");
          return std::nullopt;
        }
        auto v = to_json(it->second, depth + 1, nodes);
        if (!v) return std::nullopt;
        out[key] = std::move(*v);
      }
      return out;
    }
    if (is_plain_scalar(n)) {
      if (auto i = as_int(n)) return nlohmann::json(*i);
      if (auto d = as_number(n)) return nlohmann::json(*d);
      if (auto b = as_bool(n)) return nlohmann::json(*b);
    }
    return nlohmann::json(n.Scalar());
  }

  std::optional<ParamValue> run() {
    const YAML::Node& n = in.value;
    switch (spec.type) {
      case ParamType::kInt: {
        auto v = as_int(n);
        if (!v) return wrong_type(n), std::nullopt;
        if (!in_range(static_cast<double>(*v), "", n.Scalar())) return std::nullopt;
        return ParamValue{*v};
      }
      case ParamType::kNumber: {
        auto v = as_number(n);
        if (!v) return wrong_type(n), std::nullopt;
        if (!in_range(*v, "", n.Scalar())) return std::nullopt;
        return ParamValue{*v};
      }
      case ParamType::kBool: {
        auto v = as_bool(n);
        if (!v) return wrong_type(n), std::nullopt;
        return ParamValue{*v};
      }
      case ParamType::kString: {
        if (!n.IsScalar()) return wrong_type(n), std::nullopt;
        return ParamValue{n.Scalar()};
      }
      case ParamType::kInterval: {
        if (!n.IsScalar()) return wrong_type(n), std::nullopt;
        if (!parse_interval(n.Scalar())) {
          fail("param '" + spec.name + "': '" + n.Scalar() + "' is not a Binance interval (one of " + interval_list() +
               ")");
          return std::nullopt;
        }
        return ParamValue{n.Scalar()};
      }
      case ParamType::kFrequency: {
        if (!n.IsScalar()) return wrong_type(n), std::nullopt;
        if (!parse_frequency(n.Scalar())) {
          fail("param '" + spec.name + "': '" + n.Scalar() +
               "' is not a frequency: a Binance interval or <n> with a unit s, m (min, T), h (H) or d (D), "
               "dividing a day (2h, 2H, 120min, 120T, 1D, 3h, 45m)");
          return std::nullopt;
        }
        return ParamValue{n.Scalar()};
      }
      case ParamType::kChoice: {
        if (!n.IsScalar()) return wrong_type(n), std::nullopt;
        if (std::find(spec.choices.begin(), spec.choices.end(), n.Scalar()) == spec.choices.end()) {
          fail("param '" + spec.name + "' must be one of " + join_choices() + ", got '" + n.Scalar() + "'" +
               did_you_mean(n.Scalar(), spec.choices));
          return std::nullopt;
        }
        return ParamValue{n.Scalar()};
      }
      case ParamType::kStringList: {
        if (!n.IsSequence()) return wrong_type(n), std::nullopt;
        std::vector<std::string> out;
        bool ok = true;
        for (size_t i = 0; i < n.size(); ++i) {
          if (!n[i].IsScalar()) {
            wrong_type(n[i], index_text(i));
            ok = false;
            continue;
          }
          out.push_back(n[i].Scalar());
        }
        if (!ok) return std::nullopt;
        return ParamValue{std::move(out)};
      }
      case ParamType::kNumberList: {
        if (!n.IsSequence()) return wrong_type(n), std::nullopt;
        std::vector<double> out;
        bool ok = true;
        for (size_t i = 0; i < n.size(); ++i) {
          const std::string index = index_text(i);
          auto v = as_number(n[i]);
          if (!v) {
            fail("param '" + spec.name + "'" + index + " expects a number, got " + describe(n[i]));
            ok = false;
            continue;
          }
          if (!in_range(*v, index, n[i].Scalar())) ok = false;
          out.push_back(*v);
        }
        if (!ok) return std::nullopt;
        return ParamValue{std::move(out)};
      }
      case ParamType::kSymbolList: {
        // Symbols become file and stream names: each is checked against the
        // exchange's grammar where it is written, and a symbol twice is an error.
        if (!n.IsSequence()) return wrong_type(n), std::nullopt;
        std::vector<std::string> out;
        bool ok = true;
        for (size_t i = 0; i < n.size(); ++i) {
          const std::string index = index_text(i);
          if (!n[i].IsScalar()) {
            fail_at(n[i], index, "param '" + spec.name + "'" + index + " expects a symbol, got " + describe(n[i]));
            ok = false;
            continue;
          }
          const std::string& symbol = n[i].Scalar();
          if (const std::string problem = symbol_problem(symbol); !problem.empty()) {
            fail_at(n[i], index, problem);
            ok = false;
            continue;
          }
          if (std::find(out.begin(), out.end(), symbol) != out.end()) {
            fail_at(n[i], index, "duplicate symbol '" + symbol + "' in '" + spec.name + "'");
            ok = false;
            continue;
          }
          out.push_back(symbol);
        }
        if (!ok) return std::nullopt;
        return ParamValue{std::move(out)};
      }
      case ParamType::kMapping: {
        if (!n.IsMap()) return wrong_type(n), std::nullopt;
        size_t nodes = 0;
        auto j = to_json(n, 0, nodes);
        if (!j) return std::nullopt;
        return ParamValue{j->dump()};
      }
    }
    return std::nullopt;
  }
};

}  // namespace

bool check_params(const registry::Descriptor& descriptor, const std::vector<ParamInput>& given, SourceMark params_mark,
                  const std::string& file, const std::string& path, registry::Params& out,
                  std::vector<std::pair<std::string, SourceMark>>& marks, Diagnostics& diags) {
  bool ok = true;
  std::vector<std::string> names;
  for (const auto& s : descriptor.params) names.push_back(s.name);
  // Params suggested for misspelled ones: their "unknown param" error already
  // says what is missing.
  std::vector<std::string> suggested;

  for (const auto& in : given) {
    auto spec = std::find_if(descriptor.params.begin(), descriptor.params.end(),
                             [&](const ParamSpec& s) { return s.name == in.name; });
    if (spec == descriptor.params.end()) {
      diags.error(file, in.key_mark, path + "." + in.name,
                  "unknown param '" + in.name + "' of " + descriptor.name + did_you_mean(in.name, names));
      if (auto m = closest_match(in.name, names)) suggested.push_back(*m);
      ok = false;
      continue;
    }
    marks.emplace_back(in.name, in.value_mark);
    Checker checker{*spec, in, file, path + "." + in.name, diags};
    auto value = checker.run();
    if (!value) {
      ok = false;
      continue;
    }
    out.set(in.name, std::move(*value));
  }

  for (const auto& spec : descriptor.params) {
    const bool written = std::any_of(given.begin(), given.end(), [&](const ParamInput& p) { return p.name == spec.name; });
    if (written) continue;
    if (spec.required) {
      ok = false;
      if (std::find(suggested.begin(), suggested.end(), spec.name) != suggested.end()) continue;
      diags.error(file, params_mark, path, "missing required param '" + spec.name + "' of " + descriptor.name);
      ok = false;
    } else if (!std::holds_alternative<std::monostate>(spec.default_value)) {
      out.set(spec.name, spec.default_value);
    }
  }

  if (ok && descriptor.check) {
    for (const auto& message : descriptor.check(out)) {
      diags.error(file, params_mark, path, message);
      ok = false;
    }
  }
  return ok;
}

}  // namespace af::dsl
