#pragma once
// Test harness: builds a feature from the real registry, streams a series
// through it bar by bar and collects its outputs.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "features/register_builtins.hpp"
#include "reference.hpp"
#include "series.hpp"

namespace af::features::test {

inline const FeatureRegistry& builtin_registry() {
  static const FeatureRegistry reg = [] {
    FeatureRegistry r;
    register_builtins(r);
    return r;
  }();
  return reg;
}

using ParamMap = std::map<std::string, registry::ParamValue>;

// The step's params as the DSL would validate them: defaults filled in.
inline registry::Params params_for(const registry::Descriptor& d, const ParamMap& overrides) {
  registry::Params p;
  for (const auto& spec : d.params)
    if (!std::holds_alternative<std::monostate>(spec.default_value)) p.set(spec.name, spec.default_value);
  for (const auto& [k, v] : overrides) p.set(k, v);
  return p;
}

// The per-row inputs the executor would pass: the column for kColumn, else the bar columns.
inline std::vector<const Series*> input_columns(const registry::Descriptor& d, const Bars& b,
                                                const std::string& column) {
  std::vector<const Series*> cols;
  if (d.input == registry::InputKind::kColumn)
    cols.push_back(&b.column(column));
  else
    for (const auto& c : d.bar_columns) cols.push_back(&b.column(c));
  return cols;
}

inline std::unique_ptr<Feature> build(const std::string& name, const registry::Params& p, int outputs) {
  const auto* e = builtin_registry().find(name);
  EXPECT_NE(e, nullptr) << name;
  if (!e) return nullptr;
  auto r = e->factory(FeatureContext{p, outputs});
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? std::move(r.value()) : nullptr;
}

// Streams rows [from, to) of b through f into out (out[i][t]).
inline void stream(Feature& f, const std::vector<const Series*>& cols, size_t from, size_t to, Outputs& out) {
  std::vector<double> in(cols.size());
  std::vector<double> o(out.size());
  for (size_t t = from; t < to; ++t) {
    for (size_t c = 0; c < cols.size(); ++c) in[c] = (*cols[c])[t];
    std::fill(o.begin(), o.end(), kNan);
    f.update(in, o);
    for (size_t i = 0; i < o.size(); ++i) out[i][t] = o[i];
  }
}

inline Outputs run_feature(const std::string& name, const ParamMap& overrides, const Bars& b,
                           const std::string& column = "close") {
  const auto* e = builtin_registry().find(name);
  const auto p = params_for(e->descriptor, overrides);
  const int n_out = e->descriptor.max_outputs;
  auto f = build(name, p, n_out);
  Outputs out(static_cast<size_t>(n_out), nans(b.size()));
  stream(*f, input_columns(e->descriptor, b, column), 0, b.size(), out);
  return out;
}

}  // namespace af::features::test
