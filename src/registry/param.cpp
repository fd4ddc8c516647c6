#include "registry/param.hpp"

#include <cassert>
#include <stdexcept>

#include "common/number_format.hpp"

namespace af::registry {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::kInt: return "int";
    case ParamType::kNumber: return "number";
    case ParamType::kBool: return "bool";
    case ParamType::kString: return "string";
    case ParamType::kInterval: return "interval";
    case ParamType::kFrequency: return "frequency";
    case ParamType::kChoice: return "choice";
    case ParamType::kStringList: return "list of strings";
    case ParamType::kNumberList: return "list of numbers";
    case ParamType::kSymbolList: return "list of symbols";
    case ParamType::kMapping: return "mapping";
  }
  return "?";
}

bool Params::has(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && !std::holds_alternative<std::monostate>(it->second);
}

namespace {

// A factory asking for a parameter its own descriptor does not declare, or with
// the wrong type, is a programmer bug: validation guarantees presence and type.
[[noreturn]] void missing(const std::string& name, const char* type) {
  throw std::logic_error("param '" + name + "' is not a validated " + type);
}

}  // namespace

int64_t Params::get_int(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) missing(name, "int");
  if (auto* p = std::get_if<int64_t>(&it->second)) return *p;
  missing(name, "int");
}

double Params::get_number(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) missing(name, "number");
  if (auto* p = std::get_if<double>(&it->second)) return *p;
  if (auto* p = std::get_if<int64_t>(&it->second)) return static_cast<double>(*p);
  missing(name, "number");
}

bool Params::get_bool(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) missing(name, "bool");
  if (auto* p = std::get_if<bool>(&it->second)) return *p;
  missing(name, "bool");
}

const std::string& Params::get_string(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) missing(name, "string");
  if (auto* p = std::get_if<std::string>(&it->second)) return *p;
  missing(name, "string");
}

const std::vector<std::string>& Params::get_string_list(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) missing(name, "string list");
  if (auto* p = std::get_if<std::vector<std::string>>(&it->second)) return *p;
  missing(name, "string list");
}

const std::vector<double>& Params::get_number_list(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) missing(name, "number list");
  if (auto* p = std::get_if<std::vector<double>>(&it->second)) return *p;
  missing(name, "number list");
}

std::string format_param_value(const ParamValue& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "~"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return format_double(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<std::string>& l) const {
      std::string out = "[";
      for (size_t i = 0; i < l.size(); ++i) out += (i ? ", " : "") + l[i];
      return out + "]";
    }
    std::string operator()(const std::vector<double>& l) const {
      std::string out = "[";
      for (size_t i = 0; i < l.size(); ++i) out += (i ? ", " : "") + format_double(l[i]);
      return out + "]";
    }
  };
  return std::visit(Visitor{}, v);
}

}  // namespace af::registry
