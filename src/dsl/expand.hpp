#pragma once
// Parameter expansion (DESIGN §2): a param written `${expand.NAME}` takes each value
// of the list NAME; several such params give the cartesian product, in the order
// the params appear in the step, the first varying slowest. `{param}` in output
// names is then replaced by the step's value as written in the YAML source.
// Stateless; any thread.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace af::dsl {

// "${expand.rsi_windows}" -> "rsi_windows"; nullopt for anything else.
std::optional<std::string> expand_reference(const YAML::Node& value);

// One axis of the product: a param and the list of values it takes.
struct ExpandAxis {
  std::string param;
  std::vector<YAML::Node> values;
};

// Every combination, as one index per axis, in product order (first axis slowest).
// No axes: one empty combination.
std::vector<std::vector<size_t>> cartesian_product(const std::vector<ExpandAxis>& axes);

// Replaces each `{name}` in `text` by lookup(name); a name lookup cannot resolve
// (nullopt) is appended to `unresolved` and left as written.
template <class Lookup>
std::string substitute_braces(const std::string& text, Lookup lookup, std::vector<std::string>& unresolved) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('{', i);
    const size_t close = open == std::string::npos ? std::string::npos : text.find('}', open + 1);
    if (close == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, open - i);
    const std::string name = text.substr(open + 1, close - open - 1);
    if (std::optional<std::string> v = lookup(name)) {
      out += *v;
    } else {
      unresolved.push_back(name);
      out.append(text, open, close - open + 1);
    }
    i = close + 1;
  }
  return out;
}

}  // namespace af::dsl
