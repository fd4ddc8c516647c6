#include "features/describe_markdown.hpp"

#include <cmath>
#include <cstdint>
#include <sstream>
#include <variant>

#include "common/number_format.hpp"

namespace af::features {
namespace {

std::string format_bound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  std::string s;
  append_double(s, v);
  return s;
}

std::string range_of(const registry::ParamSpec& p) {
  if (!p.min && !p.max) return "";
  if (p.min && p.max) return format_bound(*p.min) + " .. " + format_bound(*p.max);
  if (p.min) return ">= " + format_bound(*p.min);
  return "<= " + format_bound(*p.max);
}

}  // namespace

std::string describe_markdown(const registry::Descriptor& d) {
  std::ostringstream os;
  os << "## `" << d.name << "`\n\n" << d.summary << ".\n\n" << d.doc << "\n\n";
  if (d.input == registry::InputKind::kBar) {
    os << "**Input:** the bar columns";
    for (size_t i = 0; i < d.bar_columns.size(); ++i) os << (i ? ", " : " ") << "`" << d.bar_columns[i] << "`";
    os << " (`inputs.frame`).\n\n";
  } else {
    os << "**Input:** one column (`inputs.column`).\n\n";
  }
  if (d.params.empty()) {
    os << "**Params:** none.\n\n";
  } else {
    os << "| param | type | default | range | meaning |\n|---|---|---|---|---|\n";
    for (const auto& p : d.params) {
      const bool has_default = !std::holds_alternative<std::monostate>(p.default_value);
      os << "| `" << p.name << "` | " << registry::param_type_name(p.type) << " | "
         << (p.required ? "required" : has_default ? registry::format_param_value(p.default_value) : "") << " | "
         << range_of(p) << " | " << p.doc << " |\n";
    }
    os << "\n";
  }
  os << "**Outputs** (" << d.min_outputs;
  if (d.max_outputs != d.min_outputs) os << " to " << d.max_outputs;
  os << (d.max_outputs == 1 ? " column" : " columns, in order") << "):\n";
  for (size_t i = 0; i < d.output_docs.size(); ++i)
    os << (i + 1) << ". " << d.output_docs[i] << (static_cast<int>(i) >= d.min_outputs ? " (optional)" : "") << "\n";
  os << "\n**Warmup:** " << d.warmup_doc << " rows before the first valid output.";
  // Settling is only described when it can be evaluated at the defaults.
  registry::Params defaults;
  bool all_defaults = true;
  for (const auto& p : d.params) {
    defaults.set(p.name, p.default_value);
    all_defaults = all_defaults && !p.required;
  }
  if (all_defaults && d.settling_window && d.settling_window(defaults) > 0)
    os << " Exponential memory: its values settle over about 10x its window; `validate` warns when the "
          "lookback is shorter.";
  os << "\n\n";
  return os.str();
}

std::string describe_markdown(const FeatureRegistry& registry) {
  std::ostringstream os;
  os << "# Features\n\n"
     << "Generated from the feature descriptors (`af::features::describe_markdown`); do not edit by hand.\n\n"
     << "Every feature is an incremental operator per (step, symbol): O(1) amortised work per bar "
        "(CCI: O(window)), no allocation after construction, equal to recomputing its formula over the "
        "whole series (tests: naive batch references, and TA-Lib itself for the TA-Lib families). Outputs "
        "are NaN until valid; a non-finite result is NaN unless the formula says otherwise. Windows count "
        "rows (bars) and include the current one. A NaN input inside a window makes the output NaN while it "
        "is in the window; an exponential feature stays NaN after one.\n\n";
  for (const auto* d : registry.descriptors()) os << describe_markdown(*d);
  return os.str();
}

}  // namespace af::features
