#include "net/proxy_config.hpp"

#include "common/number_parse.hpp"
#include "net/no_proxy.hpp"

namespace af::net {

namespace {

std::string base64(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of the user and password (a ':' or '@' in them is written %3A, %40).
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// The name's value, lower-case name first (as curl); nullopt when unset or empty.
std::optional<std::string> first_set(const std::function<const char*(const char*)>& getenv_fn,
                                     std::initializer_list<const char*> names, std::string& which) {
  for (const char* n : names) {
    const char* v = getenv_fn(n);
    if (v != nullptr && *v != '\0') {
      which = n;
      return std::string(v);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ProxyEndpoint::display() const { return "http://" + url.host_header(); }

const ProxyEndpoint* ProxyConfig::proxy_for(const Url& destination) const {
  const std::optional<ProxyEndpoint>& p = destination.tls() ? https : http;
  if (!p) return nullptr;
  if (no_proxy_matches(no_proxy, destination.host, destination.port)) return nullptr;
  return &*p;
}

std::string redact_userinfo(std::string_view text) {
  const size_t sep = text.find("://");
  const size_t start = sep == std::string_view::npos ? 0 : sep + 3;
  const size_t end = text.find_first_of("/?#", start);
  const std::string_view authority = text.substr(start, end == std::string_view::npos ? end : end - start);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  const size_t colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return std::string(text);  // a user name, no password
  return std::string(text.substr(0, start + colon + 1)) + "***" + std::string(text.substr(start + at));
}

Result<ProxyEndpoint> parse_proxy_url(std::string_view text) {
  const std::string shown = redact_userinfo(text);
  auto bad = [&](const std::string& why) { return make_error("bad proxy URL '" + shown + "': " + why); };
  std::string_view rest = text;
  if (const size_t sep = rest.find("://"); sep != std::string_view::npos) {
    if (rest.substr(0, sep) != "http")
      return bad("a proxy URL must be http://[user[:password]@]host[:port] (HTTPS and SOCKS proxies are not supported)");
    rest.remove_prefix(sep + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) return bad("a proxy URL has no path");
  ProxyEndpoint p;
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1));
    if (!user || !password) return bad("bad %-escape in the credentials");
    if (user->empty()) return bad("empty user name");
    p.authorization = "Basic " + base64(*user + ":" + *password);
  }
  // Default port 1080, as curl; parse_url checks host and port.
  const bool has_port = !rest.empty() && rest.front() == '['
                            ? rest.find("]:") != std::string_view::npos
                            : rest.find(':') != std::string_view::npos;
  auto url = parse_url("http://" + std::string(rest) + (has_port ? "" : ":1080"));
  if (!url) {
    const std::string& m = url.error().message;
    const size_t why = m.find("': ");
    return bad(why == std::string::npos ? m : m.substr(why + 3));
  }
  p.url = *url;
  return p;
}

Result<ProxyConfig> resolve_proxy_config(const ProxyFlags& flags,
                                         const std::function<const char*(const char*)>& getenv_fn) {
  ProxyConfig c;
  if (flags.no_proxy) return c;
  std::string which;
  if (auto v = first_set(getenv_fn, {"no_proxy", "NO_PROXY"}, which)) c.no_proxy = *v;
  if (flags.proxy) {
    if (flags.proxy->empty()) return make_error("--proxy: empty URL (use --no-proxy to connect directly)");
    auto p = parse_proxy_url(*flags.proxy);
    if (!p) return make_error("--proxy: " + p.error().message);
    c.http = c.https = *p;
    return c;
  }
  auto from = [&](std::initializer_list<const char*> names, std::optional<ProxyEndpoint>& into) -> Status {
    auto v = first_set(getenv_fn, names, which);
    if (!v) return {};
    auto p = parse_proxy_url(*v);
    if (!p) return make_error(which + ": " + p.error().message);
    into = *p;
    return {};
  };
  if (Status st = from({"https_proxy", "HTTPS_PROXY"}, c.https); !st) return st.error();
  // curl ignores the upper-case HTTP_PROXY because a CGI server puts a client's
  // `Proxy:` header there (httpoxy); alpha_forge never runs as a CGI, and
  // operators set HTTP_PROXY beside HTTPS_PROXY, so it is read (lower case first).
  if (Status st = from({"http_proxy", "HTTP_PROXY"}, c.http); !st) return st.error();
  std::optional<ProxyEndpoint> all;
  if (Status st = from({"all_proxy", "ALL_PROXY"}, all); !st) return st.error();
  if (!c.https) c.https = all;
  if (!c.http) c.http = all;
  return c;
}

namespace {
ProxyConfig& installed() {
  static ProxyConfig config;
  return config;
}
}  // namespace

void install_process_proxy_config(ProxyConfig config) { installed() = std::move(config); }
const ProxyConfig& process_proxy_config() { return installed(); }

}  // namespace af::net
