#include "net/http_client.hpp"

#include <utility>  // before awaitable.hpp (Boost 1.74)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <strings.h>

#include "net/proxy_tunnel.hpp"
#include "net/tls_context.hpp"

namespace af::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return {};
}

bool sleep_unless_stopped(int64_t ms, const std::stop_token& stop) {
  if (ms <= 0) return !stop.stop_requested();
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  cv.wait_for(lock, stop, std::chrono::milliseconds(ms), [] { return false; });  // only a stop wakes it
  return !stop.stop_requested();
}

namespace {

using Request = http::request<http::string_body>;
using Outcome = std::optional<Result<HttpResponse>>;

// How one exchange on an open connection ended.
struct Exchange {
  Outcome out;
  // The peer closed the connection before a byte of the response came: on a
  // reused connection, the server dropped it while idle (or while the request
  // was on its way), and the request can go again on a fresh one.
  bool peer_closed = false;
  bool keep_alive = false;  // the response allows another request on this connection
};

bool closed_by_peer(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

// True when an idle kept-alive socket still looks open: nothing to read (a
// server sends nothing unasked on HTTP/1.1, so anything readable is its FIN, a
// TLS close_notify or garbage) and no error pending.
bool idle_socket_usable(tcp::socket& socket) {
  char byte = 0;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions options;
  // Replaced after a stopped request: destroying the old context destroys the
  // suspended request (the connection is closed first, see drop()).
  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>();
  std::shared_ptr<asio::ssl::context> tls;

  // The kept-alive connection, at most one of the two; `origin` says where to.
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<asio::ssl::stream<beast::tcp_stream>> secure;
  std::string origin;

  static std::string origin_of(const Url& u) { return u.scheme + "://" + u.host + ":" + u.port; }
  bool connected() const { return plain || secure; }
  tcp::socket& socket() { return plain ? plain->socket() : beast::get_lowest_layer(*secure).socket(); }

  // Closes the connection (no TLS close_notify: the response was read to its
  // end, or the connection is broken anyway).
  void drop() {
    beast::error_code ec;
    if (connected()) socket().close(ec);
    plain.reset();
    secure.reset();
    origin.clear();
  }

  Status load_tls() {
    if (tls) return {};
    auto ctx = make_tls_client_context(options.ca_file);
    if (!ctx) return ctx.error();
    tls = std::move(ctx.value());
    return {};
  }

  // Runs one request: the kept-alive connection when it still serves `url`'s
  // origin, else a new one; a reused connection the server had closed is
  // re-opened once.
  // (Results go through out-parameters: g++ 12 miscompiles some coroutines that
  // return aggregates or await inside a conditional expression.)
  asio::awaitable<void> run(const Url& url, const Request& req, const std::string& where, Outcome& out);
  // Opens a connection to `url`'s origin (resolve, connect, handshake); `failed`
  // receives the error, if any.
  asio::awaitable<void> open(const Url& url, const std::string& where, Outcome& failed);
  template <class Stream>
  asio::awaitable<void> exchange(Stream& stream, const Request& req, const std::string& where, Exchange& result);
};

asio::awaitable<void> HttpClient::Impl::open(const Url& url, const std::string& where, Outcome& failed) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  const auto connect_timeout = std::chrono::milliseconds(options.connect_timeout_ms);

  const ProxyConfig& proxy = options.proxy ? *options.proxy : process_proxy_config();
  if (!url.tls()) {
    auto stream = std::make_unique<beast::tcp_stream>(ex);
    std::optional<Error> failure;
    co_await connect_stream(*stream, url, proxy, connect_timeout, failure);
    if (failure) {
      failed = make_error(where + ": " + failure->message, failure->transient);
      co_return;
    }
    plain = std::move(stream);
    origin = origin_of(url);
    co_return;
  }
  if (Status st = load_tls(); !st) {
    failed = st.error();
    co_return;
  }
  auto stream = std::make_unique<asio::ssl::stream<beast::tcp_stream>>(ex, *tls);
  if (Status st = prepare_tls_stream(*stream, url.host); !st) {
    failed = make_error(where + ": " + st.error().message);
    co_return;
  }
  auto& layer = beast::get_lowest_layer(*stream);
  {
    std::optional<Error> failure;
    co_await connect_stream(layer, url, proxy, connect_timeout, failure);
    if (failure) {
      failed = make_error(where + ": " + failure->message, failure->transient);
      co_return;
    }
  }
  layer.expires_after(connect_timeout);
  co_await stream->async_handshake(asio::ssl::stream_base::client, redirect);
  if (ec) {
    // A certificate the CAs do not vouch for, or issued for another host, will not
    // change by retrying.
    const bool verify_failure = ec.category() == asio::error::get_ssl_category();
    failed = make_error(where + ": TLS handshake failed: " + describe_tls_failure(stream->native_handle(), ec),
                        !verify_failure);
    co_return;
  }
  secure = std::move(stream);
  origin = origin_of(url);
}

template <class Stream>
asio::awaitable<void> HttpClient::Impl::exchange(Stream& stream, const Request& req, const std::string& where,
                                                 Exchange& result) {
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  auto& layer = beast::get_lowest_layer(stream);
  layer.expires_after(std::chrono::milliseconds(options.io_timeout_ms));
  co_await http::async_write(stream, req, redirect);
  if (ec) {
    result.peer_closed = closed_by_peer(ec);
    result.out = make_error(where + ": write: " + ec.message(), true);
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.body_limit);
  layer.expires_after(std::chrono::milliseconds(options.io_timeout_ms));
  co_await http::async_read(stream, buffer, parser, redirect);
  layer.expires_never();
  if (ec) {
    result.peer_closed = closed_by_peer(ec) && !parser.got_some();
    result.out = make_error(where + ": read: " + ec.message(), true);
    co_return;
  }
  auto res = parser.release();
  // Bytes past the response on an HTTP/1.1 connection nobody asked for: do not
  // read the next answer from them.
  result.keep_alive = res.keep_alive() && buffer.size() == 0;
  HttpResponse r;
  r.status = res.result_int();
  for (const auto& field : res) r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  r.body = std::move(res.body());
  result.out = std::move(r);
}

asio::awaitable<void> HttpClient::Impl::run(const Url& url, const Request& req, const std::string& where,
                                            Outcome& out) {
  bool reused = connected() && origin == origin_of(url) && idle_socket_usable(socket());
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!reused) {
      drop();
      Outcome failed;
      co_await open(url, where, failed);
      if (failed) {
        drop();
        out = std::move(failed);
        co_return;
      }
    }
    Exchange ex;
    if (plain) {
      co_await exchange(*plain, req, where, ex);
    } else {
      co_await exchange(*secure, req, where, ex);
    }
    if (!ex.out->ok()) {
      drop();  // never reused after a failure
      if (reused && ex.peer_closed) {
        reused = false;  // once, on a fresh connection
        continue;
      }
    } else if (!ex.keep_alive) {
      drop();
    }
    out = std::move(ex.out);
    co_return;
  }
}

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

HttpClient::~HttpClient() {
  // The streams belong to the context: closed before it goes.
  if (impl_) impl_->drop();
}

Status HttpClient::prepare_tls() { return impl_->load_tls(); }

Result<HttpResponse> HttpClient::get(const std::string& url_text) {
  auto url = parse_url(url_text);
  if (!url) return url.error();
  return request("GET", *url);
}

Result<HttpResponse> HttpClient::request(std::string_view method, const Url& url, const HttpHeaders& headers,
                                         const std::string& body) {
  const std::string where = std::string(method) + " " + url.text();
  if (url.scheme != "http" && url.scheme != "https") return make_error(where + ": not an http(s) URL");
  const std::stop_token& stop = impl_->options.stop;
  if (stop.stop_requested()) return make_error(where + ": stopped");

  Request req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(url.target);
  req.version(11);
  req.set(http::field::host, url.host_header());
  req.set(http::field::user_agent, impl_->options.user_agent);
  for (const auto& [name, value] : impl_->options.headers) req.set(name, value);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();  // Content-Length, also 0 for an empty POST

  Outcome out;
  asio::io_context& ioc = *impl_->ioc;
  ioc.restart();
  asio::co_spawn(ioc, impl_->run(url, req, where, out), asio::detached);
  {
    // Runs on the stopping thread (or here, when already requested); the callback's
    // destructor waits for it, so `ioc` is not replaced under it.
    std::stop_callback on_stop(stop, [&ioc] { ioc.stop(); });
    ioc.run();
  }
  if (stop.stop_requested()) {
    impl_->drop();
    impl_->ioc = std::make_unique<asio::io_context>();
    if (!out) return make_error(where + ": stopped");
  }
  if (!out) {
    impl_->drop();
    return make_error(where + ": no answer", true);
  }
  return std::move(*out);
}

}  // namespace af::net
