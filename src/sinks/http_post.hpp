#pragma once
// HttpPoster: a small synchronous HTTP/1.1 client for the database sinks
// (ClickHouse, DynamoDB) on Boost.Beast. Plain http and https; https follows the
// one TLS policy of every outgoing connection (net/tls_context.hpp: TLS 1.2+,
// the certificate verified against --ca-file, $SSL_CERT_FILE or the system CAs,
// and the host name checked). Every
// request has a deadline. One connection per request: sink batches are large,
// and this keeps reconnects after a server restart trivial.
// Owned by one sink and used only on that sink's worker thread.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace af::sinks {

struct HttpUrl {
  bool tls = false;
  std::string host;
  std::string port;  // "80" / "443" when the URL has none
  std::string path;  // "" or "/prefix" (no trailing slash)
};

// "http://host:port/path" or "https://..."; anything else is an error naming the URL.
Result<HttpUrl> parse_http_url(std::string_view url);

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const;  // "" when absent (case-insensitive)
};

class HttpPoster {
 public:
  // `ca_file`: a PEM bundle to trust ("" = $SSL_CERT_FILE, else the system CAs).
  // An https URL whose CAs cannot be loaded is an error here, not a failure of
  // every later request.
  static Result<std::unique_ptr<HttpPoster>> create(HttpUrl url,
                                                    std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                                    const std::string& ca_file = {});
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  const HttpUrl& url() const { return url_; }
  // Sends `method target` with the given headers (Host, Content-Length and
  // User-Agent are added). A failure to connect, a timeout or a broken
  // connection is a transient Error; any HTTP status is a response.
  Result<HttpResponse> request(std::string_view method, const std::string& target,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body);
  // The Host header value this poster sends ("host" or "host:port").
  std::string host_header() const;

 private:
  struct Impl;
  HttpPoster(HttpUrl url, std::chrono::milliseconds timeout);
  HttpUrl url_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s);

}  // namespace af::sinks
