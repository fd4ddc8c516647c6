#include "nats/subject.hpp"

#include <vector>

namespace af::nats {
namespace {

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

}  // namespace

std::string subject_token_problem(std::string_view token) {
  if (token.empty()) return "is empty";
  for (char c : token) {
    if (c == '.') return "contains '.'";
    if (c == '*' || c == '>') return std::string("contains the wildcard '") + c + "'";
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return "contains a space or control character";
  }
  return {};
}

bool subject_covers(std::string_view filter, std::string_view wanted) {
  const auto f = tokens(filter), w = tokens(wanted);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == ">") return i < w.size();  // the rest, at least one token
    if (i >= w.size()) return false;
    if (w[i] == ">") return false;          // wanted reaches further than this filter's fixed depth
    if (f[i] == "*") continue;              // any single token, '*' included
    if (f[i] != w[i]) return false;         // a literal covers only itself
  }
  return f.size() == w.size();
}

}  // namespace af::nats
