#include "common/symbol.hpp"

namespace af {
namespace {

bool upper_or_digit(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// "'SYMBOL' is not an exchange symbol: " with control characters shown as '?', so
// that the message stays one line. Built by appending: g++ 12 at -O3 warns
// falsely (-Wrestrict) on `"'" + std::string(...)`.
std::string not_a_symbol(std::string_view symbol, bool truncated) {
  std::string out;
  out += '\'';
  for (char c : symbol) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (truncated) out += "...";
  out += "' is not an exchange symbol: ";
  return out;
}

std::string grammar() {
  std::string out = "upper-case letters and digits (A-Z 0-9, '_' inside), 1 to ";
  out += std::to_string(kMaxSymbolLength);
  out += " characters";
  return out;
}

}  // namespace

std::string symbol_problem(std::string_view symbol) {
  if (symbol.empty()) return "an empty symbol is not an exchange symbol: " + grammar();
  if (symbol.size() > kMaxSymbolLength) {
    std::string out = not_a_symbol(symbol.substr(0, kMaxSymbolLength), true);
    out += std::to_string(symbol.size());
    out += " characters, at most ";
    out += std::to_string(kMaxSymbolLength);
    return out;
  }
  for (size_t i = 0; i < symbol.size(); ++i) {
    const char c = symbol[i];
    const bool inner_underscore = c == '_' && i > 0 && i + 1 < symbol.size() && symbol[i - 1] != '_';
    if (upper_or_digit(c) || inner_underscore) continue;
    if (c >= 'a' && c <= 'z') return not_a_symbol(symbol, false) + "lower-case letters; the exchange writes symbols in upper case";
    return not_a_symbol(symbol, false) + grammar();
  }
  return {};
}

}  // namespace af
