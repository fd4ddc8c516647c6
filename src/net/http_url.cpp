#include "net/http_url.hpp"

#include "common/number_parse.hpp"

namespace af::net {

std::string Url::text() const { return scheme + "://" + host + ":" + port + target; }

std::string Url::host_header() const {
  const bool default_port = port == (tls() ? "443" : "80");
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + port;
}

std::string Url::base_path() const {
  std::string path = target.substr(0, target.find('?'));
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](const std::string& why) { return make_error("bad URL '" + std::string(text) + "': " + why); };
  Url u;
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("no scheme");
  u.scheme = std::string(text.substr(0, sep));
  std::string default_port;
  if (u.scheme == "http" || u.scheme == "ws") default_port = "80";
  else if (u.scheme == "https" || u.scheme == "wss") default_port = "443";
  else return bad("scheme must be http, https, ws or wss");
  std::string_view rest = text.substr(sep + 3);
  const size_t path = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path);
  u.target = path == std::string_view::npos ? "/" : std::string(rest.substr(path));
  if (u.target[0] == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string_view::npos) return bad("credentials in the URL are not supported");
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("bad port");
      port = authority.substr(close + 2);
      if (port.empty()) return bad("bad port");
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return bad("bad port");
  }
  if (host.empty()) return bad("no host");
  if (!port.empty()) {
    auto p = parse_int_in_range(port, 1, 65535);
    if (!p) return bad("port " + p.error().message);
  }
  u.host = std::string(host);
  u.port = port.empty() ? default_port : std::string(port);
  return u;
}

Result<Url> parse_http_url(std::string_view text) {
  if (text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0)
    return make_error("bad URL '" + std::string(text) + "': expected http://host[:port][/path] or https://...");
  return parse_url(text);
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
