#include "dsl/yaml_util.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "common/did_you_mean.hpp"

namespace af::dsl {

SourceMark to_mark(const YAML::Mark& m) {
  if (m.line < 0 || m.column < 0) return {};
  return SourceMark{m.line + 1, m.column + 1};
}

SourceMark mark_of(const YAML::Node& n, SourceMark fallback) {
  if (!n.IsDefined() || n.IsNull()) return fallback;
  const SourceMark m = to_mark(n.Mark());
  return m.line > 0 ? m : fallback;
}

bool is_plain_scalar(const YAML::Node& n) { return n.IsScalar() && n.Tag() == "?"; }

std::optional<int64_t> as_int(const YAML::Node& n) {
  if (!is_plain_scalar(n)) return std::nullopt;
  const std::string& s = n.Scalar();
  const char* begin = s.data();
  if (!s.empty() && s[0] == '+') ++begin;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || begin == end) return std::nullopt;
  return v;
}

bool is_integer_text(const YAML::Node& n) {
  if (!is_plain_scalar(n)) return false;
  const std::string& s = n.Scalar();
  size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

std::optional<double> as_number(const YAML::Node& n) {
  if (!is_plain_scalar(n)) return std::nullopt;
  const std::string& s = n.Scalar();
  const char* begin = s.data();
  if (!s.empty() && s[0] == '+') ++begin;
  double v = 0;
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || begin == end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> as_bool(const YAML::Node& n) {
  if (!is_plain_scalar(n)) return std::nullopt;
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  if (as_int(n)) return "an int (" + n.Scalar() + ")";
  if (as_number(n)) return "a number (" + n.Scalar() + ")";
  if (as_bool(n)) return "a bool (" + n.Scalar() + ")";
  return "a string ('" + n.Scalar() + "')";
}

std::vector<KeyedNode> map_entries(const YAML::Node& map, const std::vector<std::string>& allowed,
                                   const std::string& file, const std::string& path, Diagnostics& diags,
                                   std::vector<std::string>* suggested) {
  std::vector<KeyedNode> out;
  std::set<std::string> seen;
  const std::string prefix = path.empty() ? std::string() : path + ".";
  for (auto it = map.begin(); it != map.end(); ++it) {
    const SourceMark key_mark = to_mark(it->first.Mark());
    if (!it->first.IsScalar()) {
      diags.error(file, key_mark, path, "a key must be a plain name, got " + describe(it->first));
      continue;
    }
    const std::string key = it->first.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      diags.error(file, key_mark, prefix + key, "unknown key '" + key + "'" + did_you_mean(key, allowed));
      if (suggested) {
        if (auto m = closest_match(key, allowed)) suggested->push_back(*m);
      }
      continue;
    }
    if (!seen.insert(key).second) {
      diags.error(file, key_mark, prefix + key, "duplicate key '" + key + "'");
      continue;
    }
    out.push_back({key, key_mark, it->second, mark_of(it->second, key_mark)});
  }
  return out;
}

const KeyedNode* find_entry(const std::vector<KeyedNode>& entries, const std::string& key) {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

}  // namespace af::dsl
