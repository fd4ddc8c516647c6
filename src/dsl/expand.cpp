#include "dsl/expand.hpp"

namespace af::dsl {

std::optional<std::string> expand_reference(const YAML::Node& value) {
  if (!value.IsScalar()) return std::nullopt;
  const std::string& s = value.Scalar();
  static const std::string kPrefix = "${expand.";
  if (s.size() <= kPrefix.size() + 1 || s.compare(0, kPrefix.size(), kPrefix) != 0 || s.back() != '}')
    return std::nullopt;
  return s.substr(kPrefix.size(), s.size() - kPrefix.size() - 1);
}

std::vector<std::vector<size_t>> cartesian_product(const std::vector<ExpandAxis>& axes) {
  std::vector<std::vector<size_t>> out{{}};
  // Growing the product axis by axis, appending the later axis innermost, makes
  // the first axis vary slowest.
  for (const auto& axis : axes) {
    std::vector<std::vector<size_t>> next;
    next.reserve(out.size() * axis.values.size());
    for (const auto& prefix : out) {
      for (size_t v = 0; v < axis.values.size(); ++v) {
        auto combo = prefix;
        combo.push_back(v);
        next.push_back(std::move(combo));
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace af::dsl
