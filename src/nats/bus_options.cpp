#include "nats/bus_options.hpp"

#include <charconv>
#include <cstdlib>

namespace af::nats {
namespace {

constexpr std::string_view kCredentialsShown = "***";

struct ParsedUrl {
  std::string scheme;    // "nats" or "tls"
  std::string userinfo;  // as written, may be empty
  std::string hostport;  // "host:port"
};

std::string redact_one(const ParsedUrl& u) {
  std::string out = u.scheme + "://";
  if (!u.userinfo.empty()) out += std::string(kCredentialsShown) + "@";
  return out + u.hostport;
}

// Percent-decoding of the userinfo part, so that a password may hold ':' or '@'.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int v = 0;
    const auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

Result<ParsedUrl> parse_one(std::string_view text, size_t index, const std::string& label) {
  const std::string where = label + ": URL " + std::to_string(index);
  ParsedUrl u;
  std::string_view rest = text;
  const size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) {
    u.scheme = "nats";  // "host:port" alone is accepted, as the client does
  } else {
    u.scheme = std::string(rest.substr(0, scheme_end));
    rest.remove_prefix(scheme_end + 3);
    if (u.scheme != "nats" && u.scheme != "tls") {
      return make_error(where + ": scheme '" + u.scheme + "' is not nats:// or tls://");
    }
  }
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    u.userinfo = std::string(rest.substr(0, at));
    rest.remove_prefix(at + 1);
    if (u.userinfo.empty()) return make_error(where + " (" + u.scheme + "://@...): empty credentials before '@'");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  u.hostport = std::string(rest);
  const std::string shown = redact_one(u);
  if (rest.empty()) return make_error(where + " (" + shown + "): no host");
  if (rest.find_first_of("/?# ") != std::string_view::npos) {
    return make_error(where + " (" + shown + "): a NATS URL has no path, query or spaces");
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    u.hostport += ":4222";
  } else {
    const std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
    if (host.empty()) return make_error(where + " (" + shown + "): no host");
    int p = 0;
    const auto r = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || p < 1 || p > 65535) {
      return make_error(where + " (" + shown + "): port '" + std::string(port) + "' is not a number in 1..65535");
    }
  }
  return u;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string BusOptions::redacted() const {
  std::string out;
  for (const auto& s : servers) {
    if (!out.empty()) out += ',';
    const size_t sep = s.find("://");
    out += !user.empty() || !token.empty() ? s.substr(0, sep + 3) + std::string(kCredentialsShown) + "@" + s.substr(sep + 3) : s;
  }
  return out;
}

EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

Result<BusOptions> parse_bus_options(std::string_view urls, const EnvLookup& env, std::string_view label_view) {
  const std::string label(label_view);
  BusOptions o;
  std::optional<std::string> userinfo;  // the one every URL carries, as written
  size_t index = 0;
  size_t start = 0;
  if (trim(urls).empty()) return make_error(label + ": no URL given (expected nats://host:port[,nats://host:port...])");
  while (start <= urls.size()) {
    size_t end = urls.find(',', start);
    if (end == std::string_view::npos) end = urls.size();
    const std::string one = trim(urls.substr(start, end - start));
    ++index;
    if (one.empty()) return make_error(label + ": URL " + std::to_string(index) + " is empty (a stray ',')");
    auto u = parse_one(one, index, label);
    if (!u) return u.error();
    if (index == 1) {
      userinfo = u->userinfo;
    } else if (*userinfo != u->userinfo) {
      return make_error(label + ": URL " + std::to_string(index) + " (" + redact_one(*u) +
                        ") carries other credentials than URL 1; the members of one cluster share them");
    }
    o.servers.push_back(u->scheme + "://" + u->hostport);
    start = end + 1;
  }

  if (userinfo && !userinfo->empty()) {
    const size_t colon = userinfo->find(':');
    if (colon == std::string::npos) {
      auto token = percent_decode(*userinfo);
      if (!token) return make_error(label + ": URL 1 (" + o.servers[0] + "): bad percent-encoding in the token");
      o.token = *token;
    } else {
      auto user = percent_decode(userinfo->substr(0, colon));
      auto password = percent_decode(userinfo->substr(colon + 1));
      if (!user || !password) return make_error(label + ": URL 1 (" + o.servers[0] + "): bad percent-encoding in the user or password");
      if (user->empty()) return make_error(label + ": URL 1 (" + o.servers[0] + "): empty user name before ':'");
      o.user = *user;
      o.password = *password;
    }
    return o;
  }

  const auto user = env("AF_NATS_USER");
  const auto password = env("AF_NATS_PASSWORD");
  const auto token = env("AF_NATS_TOKEN");
  const auto creds = env("AF_NATS_CREDS");
  const int kinds = (user || password ? 1 : 0) + (token ? 1 : 0) + (creds ? 1 : 0);
  if (kinds > 1) {
    return make_error(label + ": more than one kind of NATS credentials in the environment (AF_NATS_USER/AF_NATS_PASSWORD, "
                      "AF_NATS_TOKEN, AF_NATS_CREDS): set only one");
  }
  if (user.has_value() != password.has_value()) {
    return make_error(label + ": " + (user ? "AF_NATS_USER is set without AF_NATS_PASSWORD"
                                                     : "AF_NATS_PASSWORD is set without AF_NATS_USER"));
  }
  if (user) {
    o.user = *user;
    o.password = *password;
  }
  if (token) o.token = *token;
  if (creds) o.creds_file = *creds;
  return o;
}

}  // namespace af::nats
