#include "common/number_parse.hpp"

#include <charconv>
#include <string>

namespace af {
namespace {

// "'text' " followed by `what`. Built by appending: g++ 12 at -O3 warns falsely
// (-Wrestrict) on `"'" + std::string(...)`.
Error problem(std::string_view text, const char* what, int64_t min, int64_t max, bool with_range) {
  std::string out;
  out += '\'';
  out.append(text);
  out += "' ";
  out += what;
  if (with_range) {
    out += " (";
    out += std::to_string(min);
    out += " to ";
    out += std::to_string(max);
    out += ')';
  }
  return make_error(std::move(out));
}

}  // namespace

Result<int64_t> parse_int_in_range(std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range && p == end) return problem(text, "is out of range", min, max, true);
  if (ec != std::errc() || p != end || text.empty()) return problem(text, "is not a whole number", min, max, false);
  if (value < min || value > max) return problem(text, "is out of range", min, max, true);
  return value;
}

}  // namespace af
