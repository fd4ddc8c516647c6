#include "net/proxy_tunnel.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <string>

namespace af::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A CONNECT answer's status line and headers; a proxy that sends more is broken.
constexpr uint32_t kConnectHeaderLimit = 16 * 1024;

std::string timed_out(std::chrono::milliseconds timeout) {
  return "timed out after " + std::to_string(timeout.count()) + " ms";
}

// Resolves `host`:`port` and connects; `failure` gets "resolve: ..." or "connect: ...".
asio::awaitable<void> connect_tcp(beast::tcp_stream& stream, const std::string& host, const std::string& port,
                                  std::chrono::milliseconds timeout, std::optional<Error>& failure) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  // The resolver has no timeout of its own: a timer cancels it.
  tcp::resolver resolver(ex);
  asio::steady_timer guard(ex, timeout);
  bool resolve_timed_out = false;
  guard.async_wait([&](beast::error_code e) {
    if (e) return;
    resolve_timed_out = true;
    resolver.cancel();
  });
  auto endpoints = co_await resolver.async_resolve(host, port, redirect);
  guard.cancel();
  if (ec) {
    failure = make_error("resolve: " + (resolve_timed_out ? timed_out(timeout) : ec.message()), true);
    co_return;
  }
  stream.expires_after(timeout);
  co_await stream.async_connect(endpoints, redirect);
  if (ec) failure = make_error("connect: " + ec.message(), true);
}

}  // namespace

asio::awaitable<void> connect_stream(beast::tcp_stream& stream, const Url& destination, const ProxyConfig& config,
                                     std::chrono::milliseconds timeout, std::optional<Error>& failure) {
  const ProxyEndpoint* proxy = config.proxy_for(destination);
  if (proxy == nullptr) {
    co_await connect_tcp(stream, destination.host, destination.port, timeout, failure);
    co_return;
  }
  const std::string name = "proxy " + proxy->display();
  co_await connect_tcp(stream, proxy->url.host, proxy->url.port, timeout, failure);
  if (failure) {
    failure->message = name + " unreachable: " + failure->message;
    co_return;
  }
  // The authority form of the destination: "host:port", an IPv6 address in brackets.
  const std::string authority = (destination.host.find(':') != std::string::npos ? "[" + destination.host + "]"
                                                                                 : destination.host) +
                                ":" + destination.port;
  const std::string what = "CONNECT " + authority;
  http::request<http::empty_body> req{http::verb::connect, authority, 11};
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, "alpha_forge");
  if (!proxy->authorization.empty()) req.set(http::field::proxy_authorization, proxy->authorization);

  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  auto broken = [&](const std::string& step) {
    if (ec == beast::error::timeout) return make_error(name + ": " + what + ": " + timed_out(timeout), true);
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == http::error::partial_message)
      return make_error(name + " closed the connection during " + what, true);
    return make_error(name + ": " + what + ": " + step + ": " + ec.message(), true);
  };
  stream.expires_after(timeout);
  co_await http::async_write(stream, req, redirect);
  if (ec) {
    failure = broken("write");
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a CONNECT answer has no body: the tunnel starts after its header
  parser.header_limit(kConnectHeaderLimit);
  stream.expires_after(timeout);
  co_await http::async_read_header(stream, buffer, parser, redirect);
  stream.expires_never();
  if (ec) {
    failure = broken("read");
    co_return;
  }
  const auto& res = parser.get();
  const unsigned status = res.result_int();
  if (status < 200 || status > 299) {
    // Wrong or missing credentials, a port or host the proxy will not tunnel to:
    // no retry changes that. A gateway error (502, 503, 504) may pass.
    const bool transient = status >= 500;
    failure = make_error(name + " refused " + what + ": " + std::to_string(status) + " " + std::string(res.reason()),
                         transient);
    co_return;
  }
  if (buffer.size() != 0) {
    // The destination speaks only after we do (TLS, HTTP, WebSocket): bytes here
    // come from a proxy that does not tunnel.
    failure = make_error(name + ": " + what + ": unexpected data after the proxy's " + std::to_string(status) +
                         " answer");
  }
}

}  // namespace af::net
