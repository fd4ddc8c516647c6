#include "net/http_url.hpp"

#include <charconv>

namespace af::net {

std::string Url::text() const { return scheme + "://" + host + ":" + port + target; }

Result<Url> parse_url(std::string_view text) {
  Url u;
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return make_error("bad URL '" + std::string(text) + "': no scheme");
  u.scheme = std::string(text.substr(0, sep));
  std::string default_port;
  if (u.scheme == "http" || u.scheme == "ws") default_port = "80";
  else if (u.scheme == "https" || u.scheme == "wss") default_port = "443";
  else return make_error("bad URL '" + std::string(text) + "': scheme must be http, https, ws or wss");
  std::string_view rest = text.substr(sep + 3);
  const size_t path = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path);
  u.target = path == std::string_view::npos ? "/" : std::string(rest.substr(path));
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  if (authority.empty()) return make_error("bad URL '" + std::string(text) + "': no host");
  if (authority.front() == '[') {  // [::1]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error("bad URL '" + std::string(text) + "': bad IPv6 host");
    u.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    if (!authority.empty() && authority.front() == ':') u.port = std::string(authority.substr(1));
  } else {
    const size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return make_error("bad URL '" + std::string(text) + "': no host");
  if (u.port.empty()) u.port = default_port;
  unsigned port = 0;
  auto [p, ec] = std::from_chars(u.port.data(), u.port.data() + u.port.size(), port);
  if (ec != std::errc() || p != u.port.data() + u.port.size() || port == 0 || port > 65535) {
    return make_error("bad URL '" + std::string(text) + "': bad port '" + u.port + "'");
  }
  return u;
}

std::string url_encode(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace af::net
