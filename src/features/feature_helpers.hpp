#pragma once
// Small helpers shared by the built-in features: NaN handling and the
// descriptor boilerplate (parameter specs, column/bar inputs) so that each
// feature file states only what is particular to it.

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "registry/descriptor.hpp"
#include "runtime/feature.hpp"

namespace af::features {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// DESIGN §2: a non-finite result (a division by zero) is NaN.
inline double finite_or_nan(double v) { return std::isfinite(v) ? v : kNaN; }

inline registry::ParamSpec int_param(std::string name, int64_t def, int64_t min, std::string doc,
                                     std::optional<int64_t> max = 100000) {
  registry::ParamSpec p;
  p.name = std::move(name);
  p.type = registry::ParamType::kInt;
  p.default_value = def;
  p.min = static_cast<double>(min);
  if (max) p.max = static_cast<double>(*max);
  p.doc = std::move(doc);
  return p;
}

// A required int (no default), e.g. momentum's window, which the seed always names.
inline registry::ParamSpec required_int_param(std::string name, int64_t min, std::string doc) {
  registry::ParamSpec p = int_param(std::move(name), 0, min, std::move(doc));
  p.default_value = std::monostate{};
  p.required = true;
  return p;
}

inline registry::ParamSpec number_param(std::string name, double def, std::optional<double> min,
                                        std::optional<double> max, std::string doc) {
  registry::ParamSpec p;
  p.name = std::move(name);
  p.type = registry::ParamType::kNumber;
  p.default_value = def;
  p.min = min;
  p.max = max;
  p.doc = std::move(doc);
  return p;
}

inline registry::ParamSpec bool_param(std::string name, bool def, std::string doc) {
  registry::ParamSpec p;
  p.name = std::move(name);
  p.type = registry::ParamType::kBool;
  p.default_value = def;
  p.doc = std::move(doc);
  return p;
}

// A feature descriptor with the fields every built-in sets the same way.
inline registry::Descriptor feature_descriptor(std::string name, std::string summary, std::string doc,
                                               std::vector<std::string> bar_columns,
                                               std::vector<std::string> output_docs, int min_outputs) {
  registry::Descriptor d;
  d.name = std::move(name);
  d.kind = registry::PluginKind::kFeature;
  d.summary = std::move(summary);
  d.doc = std::move(doc);
  d.input = bar_columns.empty() ? registry::InputKind::kColumn : registry::InputKind::kBar;
  d.bar_columns = std::move(bar_columns);
  d.output = registry::OutputKind::kColumns;
  d.min_outputs = min_outputs;
  d.max_outputs = static_cast<int>(output_docs.size());
  d.output_docs = std::move(output_docs);
  d.settling_window = [](const registry::Params&) -> int64_t { return 0; };
  return d;
}

// An int parameter as a size (validation guarantees min >= 1).
inline int64_t int_of(const registry::Params& p, const char* name) { return p.get_int(name); }

template <class T, class... Args>
Result<std::unique_ptr<Feature>> make_feature(Args&&... args) {
  return std::unique_ptr<Feature>(std::make_unique<T>(std::forward<Args>(args)...));
}

}  // namespace af::features
