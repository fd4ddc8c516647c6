#include "sinks/http_post.hpp"

#include <utility>  // before asio, see TOOLCHAIN.md

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <openssl/ssl.h>

#include <cctype>
#include <memory>

#include "common/number_parse.hpp"
#include "net/tls_context.hpp"

namespace af::sinks {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

Result<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl u;
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else {
    return make_error("bad URL '" + std::string(url) + "': expected http://host[:port][/path] or https://...");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (authority.find('@') != std::string_view::npos)
    return make_error("bad URL '" + std::string(url) + "': credentials in the URL are not supported");
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error("bad URL '" + std::string(url) + "': unclosed '['");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return make_error("bad URL '" + std::string(url) + "': bad port");
      port = authority.substr(close + 2);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return make_error("bad URL '" + std::string(url) + "': no host");
  if (!port.empty()) {
    auto p = parse_int_in_range(port, 1, 65535);
    if (!p) return make_error("bad URL '" + std::string(url) + "': port " + p.error().message);
  }
  u.host = std::string(host);
  u.port = port.empty() ? (u.tls ? "443" : "80") : std::string(port);
  return u;
}

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < k.size() && eq; ++i)
      eq = std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (eq) return v;
  }
  return {};
}

struct HttpPoster::Impl {
  net::io_context ioc;
  std::shared_ptr<net::ssl::context> ssl_ctx;  // https only
};

HttpPoster::HttpPoster(HttpUrl url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout), impl_(std::make_unique<Impl>()) {}

Result<std::unique_ptr<HttpPoster>> HttpPoster::create(HttpUrl url, std::chrono::milliseconds timeout,
                                                       const std::string& ca_file) {
  std::unique_ptr<HttpPoster> poster(new HttpPoster(std::move(url), timeout));
  if (poster->url_.tls) {
    auto ctx = af::net::make_tls_client_context(ca_file);
    if (!ctx) return ctx.error();
    poster->impl_->ssl_ctx = std::move(ctx.value());
  }
  return poster;
}

HttpPoster::~HttpPoster() = default;

std::string HttpPoster::host_header() const {
  const bool default_port = url_.port == (url_.tls ? "443" : "80");
  const std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
  return default_port ? host : host + ":" + url_.port;
}

namespace {

// Runs the io_context until the pending operation completes.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

template <class Stream>
Result<HttpResponse> exchange(net::io_context& ioc, Stream& stream, beast::tcp_stream& tcp_layer,
                              http::request<http::string_body>& req, std::chrono::milliseconds timeout,
                              const std::string& where) {
  beast::error_code ec;
  tcp_layer.expires_after(timeout);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  run(ioc);
  if (ec) return make_error(where + ": send failed: " + ec.message(), true);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  tcp_layer.expires_after(timeout);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  run(ioc);
  if (ec) return make_error(where + ": no response: " + ec.message(), true);
  auto& res = parser.get();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return out;
}

}  // namespace

Result<HttpResponse> HttpPoster::request(std::string_view method, const std::string& target,
                                         const std::vector<std::pair<std::string, std::string>>& headers,
                                         const std::string& body) {
  const std::string where = std::string(url_.tls ? "https://" : "http://") + url_.host + ":" + url_.port;
  auto& ioc = impl_->ioc;
  beast::error_code ec;

  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url_.host, url_.port, [&](beast::error_code e, tcp::resolver::results_type r) {
    ec = e;
    endpoints = std::move(r);
  });
  run(ioc);
  if (ec) return make_error(where + ": cannot resolve host: " + ec.message(), true);

  http::request<http::string_body> req;
  req.method_string(std::string(method));
  req.target(url_.path + target);
  req.version(11);
  req.set(http::field::host, host_header());
  req.set(http::field::user_agent, "alpha_forge-sinks");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();  // Content-Length, also 0 for an empty POST

  if (!url_.tls) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout_);
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run(ioc);
    if (ec) return make_error(where + ": cannot connect: " + ec.message(), true);
    auto res = exchange(ioc, stream, stream, req, timeout_, where);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return res;
  }

  net::ssl::stream<beast::tcp_stream> stream(ioc, *impl_->ssl_ctx);
  if (Status st = af::net::prepare_tls_stream(stream, url_.host); !st) return make_error(where + ": " + st.error().message);
  auto& layer = beast::get_lowest_layer(stream);
  layer.expires_after(timeout_);
  layer.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run(ioc);
  if (ec) return make_error(where + ": cannot connect: " + ec.message(), true);
  layer.expires_after(timeout_);
  stream.async_handshake(net::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  run(ioc);
  if (ec) {
    // A certificate that does not verify will not verify on retry either.
    const bool verify = ec.category() == net::error::get_ssl_category();
    return make_error(where + ": TLS handshake failed: " + af::net::describe_tls_failure(stream.native_handle(), ec),
                      !verify);
  }
  auto res = exchange(ioc, stream, layer, req, timeout_, where);
  layer.socket().shutdown(tcp::socket::shutdown_both, ec);
  return res;
}

}  // namespace af::sinks
