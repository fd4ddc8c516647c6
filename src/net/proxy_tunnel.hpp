#pragma once
// Opens the TCP connection under every outgoing request (HttpClient) and every
// WebSocket (binance/), directly or, when the proxy policy
// (net/proxy_config.hpp) says so, through an HTTP/1.1 CONNECT tunnel: connect
// to the proxy, send "CONNECT host:port" (with Proxy-Authorization when the
// proxy URL has credentials), read its answer; on 2xx the stream is a byte pipe
// to the destination, and the caller runs TLS (SNI and verification against the
// destination) or plain HTTP over it as if connected directly.
//
// Asio types in this header: its callers are the Asio code of HttpClient and of
// the WebSocket client. Runs on the caller's io thread.

#include <utility>  // before awaitable.hpp (Boost 1.74)

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <optional>

#include "common/result.hpp"
#include "net/http_url.hpp"
#include "net/proxy_config.hpp"

namespace af::net {

// Connects `stream` to `destination` through `config`'s proxy for it, or
// directly. Each step (resolve, connect, the CONNECT exchange) has `timeout`.
// On failure `failure` holds a one-line error (transient unless the proxy
// refused with 401/403/407 or the proxy URL does not resolve to anything usable):
//   direct:  "resolve: <why>", "connect: <why>"
//   proxied: "proxy http://127.0.0.1:3128 unreachable: connect: Connection refused",
//            "proxy http://127.0.0.1:3128 refused CONNECT api.example:443: 403 Forbidden",
//            "proxy http://127.0.0.1:3128 closed the connection during CONNECT api.example:443",
//            "proxy http://127.0.0.1:3128: CONNECT api.example:443: timed out after 10000 ms".
// Credentials never appear in them.
boost::asio::awaitable<void> connect_stream(boost::beast::tcp_stream& stream, const Url& destination,
                                            const ProxyConfig& config, std::chrono::milliseconds timeout,
                                            std::optional<Error>& failure);

}  // namespace af::net
