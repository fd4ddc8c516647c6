#pragma once
// HttpClient: the one blocking HTTP/1.1 client of every outgoing request (the
// Binance REST client, the archive downloader, the ClickHouse client, the
// DynamoDB sink), over Beast: plain for http://, TLS for https:// under the one
// TLS policy (net/tls_context.hpp). It keeps one connection open and reuses it
// for the next request to the same scheme, host and port (keep-alive); a
// connection the server has closed while idle is re-opened transparently. A
// connection that timed out, failed or broke the protocol is never reused.
// Every step has its own deadline (resolve, connect, TLS handshake: the connect
// timeout; writing the request, reading the response: the I/O timeout), and a
// request can be stopped from another thread through HttpClientOptions::stop.
// Owned by one caller thread (the REST client's, the downloader's, a sink
// worker's); not thread-safe. No Asio type leaks out.

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "net/http_url.hpp"
#include "net/proxy_config.hpp"

namespace af::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpClientOptions {
  int64_t connect_timeout_ms = 10'000;  // each of: resolve, TCP connect, TLS handshake
  int64_t io_timeout_ms = 30'000;       // each of: writing the request, reading the whole response
  std::string ca_file;                  // empty: $SSL_CERT_FILE, else the system CAs
  std::string user_agent = "alpha_forge";
  uint64_t body_limit = 1ULL << 30;  // a larger response body is a read error
  // Sent with every request (credentials such as X-ClickHouse-Key travel here,
  // never in the URL, which error messages quote).
  HttpHeaders headers;
  // A stop request (from any thread) ends a request in flight at once: the
  // connection is closed and the call returns "<METHOD> <url>: stopped" (not
  // transient: retry loops end).
  std::stop_token stop;
  // The proxy policy (net/proxy_config.hpp); nullopt: the process's, as installed
  // at start-up (direct when none was).
  std::optional<ProxyConfig> proxy;
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  HttpHeaders headers;
  // The value of header `name` (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

// Waits `ms`, returning early once `stop` is requested; true when it slept the
// whole time. What every retry and back-off wait of the network clients uses.
bool sleep_unless_stopped(int64_t ms, const std::stop_token& stop);

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Loads the TLS context (the CA set) now rather than at the first https
  // request: for callers that refuse a CA file that does not load at start-up.
  // Errors: "TLS: cannot load CA file '<file>': <why>".
  Status prepare_tls();

  // Sends `method url` with `headers` (after the options' headers; Host,
  // User-Agent and Content-Length are set here) and `body`. Any HTTP status is a
  // response. Network failures and timeouts are transient errors; a TLS
  // verification failure, a URL that is not http(s) and a stop are fatal.
  // Errors read "<METHOD> <url>: <step>: <reason>", the steps being resolve,
  // connect, "TLS handshake failed", write and read.
  Result<HttpResponse> request(std::string_view method, const Url& url, const HttpHeaders& headers = {},
                               const std::string& body = {});

  // GET of a URL given as text (parsed here; a bad one is a fatal error).
  Result<HttpResponse> get(const std::string& url);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::net
