#pragma once
// describe_markdown: the feature reference (docs/features.md) generated from
// the registered descriptors, so the docs cannot drift from the code. Used by
// `alpha_forge plugins --markdown` and by the test that checks the docs.

#include <string>

#include "runtime/feature.hpp"

namespace af::features {

// One markdown document: a section per feature (summary, formula, input,
// params with type/default/range, outputs, warmup, settling), in registry order.
std::string describe_markdown(const FeatureRegistry& registry);

// The section of one descriptor (any plugin kind with kColumns outputs).
std::string describe_markdown(const registry::Descriptor& d);

}  // namespace af::features
