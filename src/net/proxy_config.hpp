#pragma once
// The proxy policy of every outgoing connection (HttpClient: REST, archive,
// ClickHouse, DynamoDB; the Binance WebSocket client), in one place.
//
// Where the settings come from, as curl reads them: `https_proxy`/`HTTPS_PROXY`
// for https:// and wss:// destinations, `http_proxy`/`HTTP_PROXY` for http://
// and ws:// (curl ignores the upper-case one for CGI's sake; we are never a
// CGI, so it is read), `all_proxy`/`ALL_PROXY` for
// either when the scheme's own is unset, `no_proxy`/`NO_PROXY` for the hosts
// reached directly (net/no_proxy.hpp); the lower-case name wins when both are
// set. A `--proxy URL` flag replaces every *_proxy variable (NO_PROXY still
// applies); `--no-proxy` ignores them all and connects directly.
// Loopback destinations are proxied like any other unless NO_PROXY names them,
// so a deployment and its tests take the same path.
//
// A proxy URL is http://[user[:password]@]host[:port] (no scheme: http; no
// port: 1080, as curl). Only HTTP proxies, reached in clear: every connection
// goes through an HTTP/1.1 CONNECT tunnel (net/proxy_tunnel.hpp), plain http://
// and ws:// destinations too, so TLS, when the destination speaks it, runs end
// to end and is verified against the destination's name. The password never
// appears in a message: errors and logs show the proxy as "http://host:port".
//
// Resolved once per process, before any client thread starts (the app does it
// in run_cli); clients read the installed configuration unless given their own.
// A value type; the installed one is read from any thread.

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "net/http_url.hpp"

namespace af::net {

// One proxy: where to connect and what to send it.
struct ProxyEndpoint {
  Url url;                    // http://host:port/ (what the TCP connection goes to)
  std::string authorization;  // "Basic <base64(user:password)>", "" without credentials
  // "http://host:port", for messages: never the credentials.
  std::string display() const;
};

struct ProxyConfig {
  std::optional<ProxyEndpoint> http;   // for http:// and ws:// destinations
  std::optional<ProxyEndpoint> https;  // for https:// and wss:// destinations
  std::string no_proxy;                // NO_PROXY's list
  // The proxy a connection to `destination` goes through, nullptr for a direct one.
  const ProxyEndpoint* proxy_for(const Url& destination) const;
  bool empty() const { return !http && !https; }
};

// Parses a proxy URL (see above). Errors quote it with the password hidden:
// "bad proxy URL 'http://alice:***@proxy:3128x': port ...".
Result<ProxyEndpoint> parse_proxy_url(std::string_view text);

// `text` with the password of a user:password@ part replaced by "***" (for any
// message that must quote a URL given by the user).
std::string redact_userinfo(std::string_view text);

struct ProxyFlags {
  std::optional<std::string> proxy;  // --proxy URL
  bool no_proxy = false;             // --no-proxy
};

// The configuration from the environment (`getenv`, injectable for tests) and
// the flags. Errors name the variable or the flag: "HTTPS_PROXY: bad proxy URL
// 'ftp://x': a proxy URL must be http://...".
Result<ProxyConfig> resolve_proxy_config(
    const ProxyFlags& flags,
    const std::function<const char*(const char*)>& getenv_fn = [](const char* n) { return std::getenv(n); });

// The process's configuration, installed once at start-up (before any client
// thread), and read by every client not given its own. Direct until installed.
void install_process_proxy_config(ProxyConfig config);
const ProxyConfig& process_proxy_config();

}  // namespace af::net
