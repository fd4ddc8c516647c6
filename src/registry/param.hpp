#pragma once
// Parameter schema and values. A plugin's parameters are declared once, as
// ParamSpecs in its Descriptor; the DSL validates YAML against them, `plugins`
// and docs/ print them, and the factory reads typed values from Params.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace af::registry {

enum class ParamType {
  kInt,         // integer (YAML 14)
  kNumber,      // double (YAML 10, 0.5, -1e-3)
  kBool,        // true/false
  kString,      // any string
  kInterval,    // a Binance interval name ("15m"), checked against the set
  kFrequency,   // a resample target: a Binance interval or pandas' spelling dividing a day ("2H", "45m")
  kChoice,      // one string of ParamSpec::choices
  kStringList,  // [a, b]
  kNumberList,  // [0.1, -2]
  kSymbolList,  // [BTCUSDT, ETHUSDT]: exchange symbols (common/symbol.hpp), no duplicates
  kMapping,     // {a: 1, b: [x, y]}: any YAML mapping, held as its JSON text (a std::string)
};

const char* param_type_name(ParamType t);

using ParamValue =
    std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<std::string>, std::vector<double>>;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  bool required = false;
  ParamValue default_value;          // monostate: no default
  std::optional<double> min;         // inclusive, for kInt/kNumber (and list elements)
  std::optional<double> max;         // inclusive
  std::vector<std::string> choices;  // for kChoice
  std::string doc;
  // A credential (a password): a shown plan (`validate` text and JSON, logs) and
  // the plan fingerprint carry kRedacted instead of its value, so changing it
  // neither leaks nor invalidates snapshots. Factories read it as usual.
  bool secret = false;
};

// What a shown plan writes in place of a secret param's value.
inline constexpr const char* kRedacted = "<redacted>";

// Typed parameter values of one step after validation (defaults filled in).
class Params {
 public:
  void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
  bool has(const std::string& name) const;

  int64_t get_int(const std::string& name) const;
  double get_number(const std::string& name) const;  // also accepts an int value
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  const std::vector<std::string>& get_string_list(const std::string& name) const;
  const std::vector<double>& get_number_list(const std::string& name) const;

  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  std::map<std::string, ParamValue> values_;
};

// A value as written in YAML-like text: 14, 0.5, true, "2h", [a, b].
std::string format_param_value(const ParamValue& v);

}  // namespace af::registry
