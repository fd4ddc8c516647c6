#pragma once
// HttpClient: a blocking HTTP/1.1 GET over Beast, plain for http:// and TLS (SNI,
// peer and host-name verification) for https://, with a timeout on every step
// (resolve, connect, handshake, write, read), and stoppable from another thread
// through HttpClientOptions::stop. Owned by one caller thread (the REST client's,
// the bulk downloader's); not thread-safe. No Asio type leaks out.

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace af::net {

struct HttpClientOptions {
  int64_t connect_timeout_ms = 10'000;  // resolve + TCP connect + TLS handshake, each
  int64_t io_timeout_ms = 30'000;       // writing the request, reading the whole response
  std::string ca_file;                  // empty: $SSL_CERT_FILE, else the system CAs
  std::string user_agent = "alpha_forge";
  uint64_t body_limit = 1ULL << 30;
  // Sent with every request (credentials such as X-ClickHouse-Key travel here,
  // never in the URL, which error messages quote).
  std::vector<std::pair<std::string, std::string>> headers;
  // A stop request (from any thread) ends a GET in flight at once: the socket is
  // closed and get() returns "GET <url>: stopped" (not transient: retry loops end).
  std::stop_token stop;
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
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

  // GET `url`. Any HTTP status is a response; network failures and timeouts are
  // transient errors, a bad URL or a TLS verification failure a fatal one. Errors
  // read "GET <url>: <step>: <reason>".
  Result<HttpResponse> get(const std::string& url);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::net
