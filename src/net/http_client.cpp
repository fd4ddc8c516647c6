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
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <strings.h>

#include "net/http_url.hpp"
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

struct HttpClient::Impl {
  HttpClientOptions options;
  // Replaced after a stopped GET: destroying the old context destroys the
  // suspended request with its socket (closing it).
  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>();
  std::shared_ptr<asio::ssl::context> tls;

  // Runs the steps of one GET; `out` receives the answer or the first failure.
  asio::awaitable<void> run(Url url, std::optional<Result<HttpResponse>>& out);

  template <class Stream>
  asio::awaitable<void> exchange(Stream& stream, const Url& url, std::optional<Result<HttpResponse>>& out);
};

namespace {

std::string host_header(const Url& u) {
  const bool default_port = (u.port == "80" && !u.tls()) || (u.port == "443" && u.tls());
  return default_port ? u.host : u.host + ":" + u.port;
}

}  // namespace

template <class Stream>
asio::awaitable<void> HttpClient::Impl::exchange(Stream& stream, const Url& url,
                                                std::optional<Result<HttpResponse>>& out) {
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  http::request<http::empty_body> req{http::verb::get, url.target, 11};
  req.set(http::field::host, host_header(url));
  req.set(http::field::user_agent, options.user_agent);
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : options.headers) req.set(name, value);
  beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(options.io_timeout_ms));
  co_await http::async_write(stream, req, redirect);
  if (ec) {
    out = make_error("GET " + url.text() + ": write: " + ec.message(), true);
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.body_limit);
  co_await http::async_read(stream, buffer, parser, redirect);
  if (ec) {
    out = make_error("GET " + url.text() + ": read: " + ec.message(), true);
    co_return;
  }
  auto res = parser.release();
  HttpResponse r;
  r.status = res.result_int();
  for (const auto& field : res) r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  r.body = std::move(res.body());
  out = std::move(r);
}

asio::awaitable<void> HttpClient::Impl::run(Url url, std::optional<Result<HttpResponse>>& out) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  const auto connect_timeout = std::chrono::milliseconds(options.connect_timeout_ms);

  // The resolver has no timeout of its own: a timer cancels it.
  tcp::resolver resolver(ex);
  asio::steady_timer guard(ex, connect_timeout);
  guard.async_wait([&resolver](beast::error_code e) {
    if (!e) resolver.cancel();
  });
  auto endpoints = co_await resolver.async_resolve(url.host, url.port, redirect);
  guard.cancel();
  if (ec) {
    out = make_error("GET " + url.text() + ": resolve: " + ec.message(), true);
    co_return;
  }
  if (!url.tls()) {
    beast::tcp_stream stream(ex);
    stream.expires_after(connect_timeout);
    co_await stream.async_connect(endpoints, redirect);
    if (ec) {
      out = make_error("GET " + url.text() + ": connect: " + ec.message(), true);
      co_return;
    }
    co_await exchange(stream, url, out);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return;
  }
  if (!tls) {
    auto ctx = make_tls_client_context(options.ca_file);
    if (!ctx) {
      out = ctx.error();
      co_return;
    }
    tls = *ctx;
  }
  asio::ssl::stream<beast::tcp_stream> stream(ex, *tls);
  if (auto st = prepare_tls_stream(stream, url.host); !st) {
    out = st.error();
    co_return;
  }
  beast::get_lowest_layer(stream).expires_after(connect_timeout);
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, redirect);
  if (ec) {
    out = make_error("GET " + url.text() + ": connect: " + ec.message(), true);
    co_return;
  }
  beast::get_lowest_layer(stream).expires_after(connect_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::client, redirect);
  if (ec) {
    // A certificate the CAs do not vouch for, or issued for another host, will not
    // change by retrying.
    const bool verify_failure = ec.category() == asio::error::get_ssl_category();
    out = make_error("GET " + url.text() + ": TLS handshake: " + ec.message(), !verify_failure);
    co_return;
  }
  co_await exchange(stream, url, out);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(redirect);  // errors here (peer closed first) are harmless
}

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::get(const std::string& url_text) {
  auto url = parse_url(url_text);
  if (!url) return url.error();
  if (url->scheme != "http" && url->scheme != "https") return make_error("GET " + url_text + ": not an http(s) URL");
  const std::stop_token& stop = impl_->options.stop;
  auto stopped = [&] { return make_error("GET " + url->text() + ": stopped"); };
  if (stop.stop_requested()) return stopped();
  std::optional<Result<HttpResponse>> out;
  asio::io_context& ioc = *impl_->ioc;
  ioc.restart();
  asio::co_spawn(ioc, impl_->run(*url, out), asio::detached);
  {
    // Runs on the stopping thread (or here, when already requested); the callback's
    // destructor waits for it, so `ioc` is not replaced under it.
    std::stop_callback on_stop(stop, [&ioc] { ioc.stop(); });
    ioc.run();
  }
  if (stop.stop_requested()) {
    impl_->ioc = std::make_unique<asio::io_context>();
    if (!out) return stopped();
  }
  if (!out) return make_error("GET " + url->text() + ": no answer", true);
  return std::move(*out);
}

}  // namespace af::net
