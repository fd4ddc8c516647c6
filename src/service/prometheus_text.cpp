#include "service/prometheus_text.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

#include "common/number_format.hpp"

namespace af::service {
namespace {

[[maybe_unused]] bool valid_name(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

// HELP text escapes only backslash and newline (quotes are literal there).
std::string escape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

std::string PrometheusText::format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Counters are integers; the shortest form would write 1000000 as "1e+06".
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (v == std::floor(v) && std::fabs(v) < kExactIntegers) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, end);
  }
  return format_double(v);
}

std::string PrometheusText::escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

PrometheusText::Family& PrometheusText::family(std::string_view name, std::string_view help,
                                               std::string_view type) {
  assert(valid_name(name, true) && "PrometheusText: invalid metric name");
  auto it = index_.find(std::string(name));
  if (it != index_.end()) {
    Family& f = families_[it->second];
    assert(f.type == type && "PrometheusText: one metric name used with two types");
    return f;
  }
  index_.emplace(std::string(name), families_.size());
  families_.push_back(Family{std::string(name), escape_help(help), type, {}});
  return families_.back();
}

void PrometheusText::append_sample(std::string& out, std::string_view name, const MetricLabels& labels,
                                   std::string_view extra_label, std::string_view extra_value, double value) {
  out += name;
  if (!labels.empty() || !extra_label.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [key, val] : labels) {
      assert(valid_name(key, false) && key.rfind("__", 0) != 0 && "PrometheusText: invalid label name");
      if (!first) out += ',';
      first = false;
      out += key;
      out += "=\"";
      out += escape_label_value(val);
      out += '"';
    }
    if (!extra_label.empty()) {
      if (!first) out += ',';
      out += extra_label;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

void PrometheusText::counter(std::string_view name, std::string_view help, double value, const MetricLabels& labels) {
  append_sample(family(name, help, "counter").samples, name, labels, {}, {}, value);
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value, const MetricLabels& labels) {
  append_sample(family(name, help, "gauge").samples, name, labels, {}, {}, value);
}

void PrometheusText::histogram(std::string_view name, std::string_view help, const LatencyHistogram::Snapshot& snapshot,
                               const MetricLabels& labels) {
  assert(snapshot.upper_bounds.size() == snapshot.cumulative_counts.size());
  assert(!snapshot.upper_bounds.empty() && std::isinf(snapshot.upper_bounds.back()) &&
         "PrometheusText: a histogram's last bucket must be +Inf");
#ifndef NDEBUG
  for (const auto& label : labels) assert(label.first != "le" && "PrometheusText: 'le' is reserved");
#endif
  std::string& out = family(name, help, "histogram").samples;
  const std::string base(name);
  for (size_t i = 0; i < snapshot.upper_bounds.size(); ++i) {
    append_sample(out, base + "_bucket", labels, "le", format_value(snapshot.upper_bounds[i]),
                  static_cast<double>(snapshot.cumulative_counts[i]));
  }
  append_sample(out, base + "_sum", labels, {}, {}, snapshot.sum);
  append_sample(out, base + "_count", labels, {}, {}, static_cast<double>(snapshot.count));
}

std::string PrometheusText::str() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += f.help;
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += f.type;
    out += '\n';
    out += f.samples;
  }
  return out;
}

}  // namespace af::service
