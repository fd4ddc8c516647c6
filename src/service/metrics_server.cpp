#include <utility>  // before asio's awaitable (Boost 1.74)

#include "service/metrics_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <fmt/format.h>
#include <thread>

#include "common/log.hpp"
#include "service/status_page.hpp"

namespace af::service {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";
constexpr const char* kJsonContentType = "application/json";
constexpr const char* kHtmlContentType = "text/html; charset=utf-8";
// The status page loads nothing but `status` from this server: the browser enforces
// that it stays self-contained (no external script, font, image or frame).
constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
constexpr uint32_t kHeaderLimit = 8 * 1024;  // a scrape request is a few hundred bytes
constexpr uint64_t kBodyLimit = 64 * 1024;
constexpr auto kFirstAcceptBackoff = std::chrono::milliseconds(10);
constexpr auto kMaxAcceptBackoff = std::chrono::milliseconds(1000);
constexpr auto kSessionCapPoll = std::chrono::milliseconds(20);

std::shared_ptr<spdlog::logger> log() { return af::logger("service"); }

// The path part of a request target ("/metrics?x=1" -> "/metrics").
std::string_view target_path(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

struct MetricsServer::Impl {
  explicit Impl(MetricsServerOptions o) : options(std::move(o)) {}

  net::awaitable<void> accept_loop();
  net::awaitable<void> session(tcp::socket socket);
  http::response<http::string_body> respond(const http::request<http::string_body>& req);
  void log_callback_error(std::string_view which, std::string_view what);

  MetricsServerOptions options;
  std::unique_ptr<net::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::atomic<uint16_t> bound_port{0};
  bool running = false;  // owner's thread only
  size_t sessions = 0;   // io thread only
  RateLimiter error_limiter{5, 60'000};
  RateLimiter accept_limiter{5, 60'000};
};

net::awaitable<void> MetricsServer::Impl::accept_loop() {
  net::steady_timer timer(*ioc);
  std::chrono::milliseconds backoff{0};
  const size_t cap = std::max<size_t>(1, options.max_sessions);
  for (;;) {
    beast::error_code ec;
    while (sessions >= cap && acceptor->is_open()) {
      // At the cap: the next connection waits in the listen backlog until a session ends.
      timer.expires_after(kSessionCapPoll);
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    tcp::socket socket = co_await acceptor->async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: the pending connection stays queued and
      // accept fails again at once, so wait (longer each time) and keep serving the
      // connections we have.
      backoff = backoff.count() == 0 ? kFirstAcceptBackoff : std::min(backoff * 2, kMaxAcceptBackoff);
      uint64_t suppressed = 0;
      if (accept_limiter.allow(suppressed)) {
        log()->warn("metrics server: accept failed: {}; retrying in {} ms (sessions={} suppressed={})", ec.message(),
                    backoff.count(), sessions, suppressed);
      }
      timer.expires_after(backoff);
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    ++sessions;
    net::co_spawn(*ioc, session(std::move(socket)), net::detached);
  }
}

net::awaitable<void> MetricsServer::Impl::session(tcp::socket socket) {
  // Counted by accept_loop for the cap; this guard also runs when stop() destroys a waiting session.
  struct Release {
    size_t& n;
    ~Release() { --n; }
  } release{sessions};
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    stream.expires_after(options.idle_timeout);
    beast::error_code ec;
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      break;
    }
    http::response<http::string_body> res;
    bool keep_alive = false;
    if (ec) {
      // Garbage or an oversized request: say so, then drop the connection (the rest
      // of the byte stream cannot be trusted to start a new request).
      res.result(http::status::bad_request);
      res.version(11);
      res.set(http::field::content_type, kTextContentType);
      res.body() = "bad request: " + ec.message() + "\n";
    } else {
      const auto& req = parser.get();
      res = respond(req);
      keep_alive = req.keep_alive();
    }
    res.set(http::field::server, "alpha_forge");
    res.keep_alive(keep_alive);
    res.prepare_payload();
    const bool head = !ec && parser.get().method() == http::verb::head;
    if (head) {
      // Same headers as GET (Content-Length included), no body.
      http::response<http::empty_body> head_res{res.result(), res.version()};
      for (const auto& field : res.base()) head_res.set(field.name_string(), field.value());
      co_await http::async_write(stream, head_res, net::redirect_error(net::use_awaitable, ec));
    } else {
      co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    }
    if (ec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

http::response<http::string_body> MetricsServer::Impl::respond(const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.set(http::field::content_type, kTextContentType);
  const std::string_view path = target_path(std::string_view(req.target().data(), req.target().size()));
  const bool status_pages = static_cast<bool>(options.status);
  const bool known = path == "/metrics" || path == "/healthz" || (status_pages && (path == "/" || path == "/status"));
  if (!known) {
    res.result(http::status::not_found);
    res.body() = status_pages ? "not found; try /, /status, /metrics or /healthz\n" : "not found; try /metrics or /healthz\n";
    return res;
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "method not allowed\n";
    return res;
  }
  try {
    if (path == "/metrics") {
      res.result(http::status::ok);
      res.set(http::field::content_type, kMetricsContentType);
      if (options.metrics) res.body() = options.metrics();
    } else if (path == "/status") {
      res.result(http::status::ok);
      res.set(http::field::content_type, kJsonContentType);
      res.set(http::field::cache_control, "no-store");
      res.body() = options.status();
    } else if (path == "/") {
      res.result(http::status::ok);
      res.set(http::field::content_type, kHtmlContentType);
      res.set("Content-Security-Policy", kPagePolicy);
      res.set("X-Content-Type-Options", "nosniff");
      res.body() = std::string(status_page_html());
    } else {
      HealthStatus h = options.health ? options.health() : HealthStatus{};
      res.result(h.healthy ? http::status::ok : http::status::service_unavailable);
      res.body() = h.healthy ? "ok\n" : (h.reason.empty() ? "unhealthy" : h.reason) + "\n";
    }
  } catch (const std::exception& e) {
    log_callback_error(path, e.what());
    res.result(http::status::internal_server_error);
    res.set(http::field::content_type, kTextContentType);
    res.body() = fmt::format("{} failed: {}\n", path, e.what());
  } catch (...) {
    log_callback_error(path, "unknown exception");
    res.result(http::status::internal_server_error);
    res.set(http::field::content_type, kTextContentType);
    res.body() = fmt::format("{} failed\n", path);
  }
  return res;
}

void MetricsServer::Impl::log_callback_error(std::string_view which, std::string_view what) {
  uint64_t suppressed = 0;
  if (error_limiter.allow(suppressed)) {
    log()->error("metrics server: {} callback threw: {} suppressed={}", which, what, suppressed);
  }
}

MetricsServer::MetricsServer(MetricsServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

MetricsServer::~MetricsServer() { stop(); }

Status MetricsServer::start() {
  Impl& s = *impl_;
  if (s.running) return make_error("metrics server: already running");
  const std::string where = fmt::format("{}:{}", s.options.bind_address, s.options.port);
  beast::error_code ec;
  const auto address = net::ip::make_address(s.options.bind_address, ec);
  if (ec) return make_error(fmt::format("metrics server: bad bind address '{}': {}", s.options.bind_address, ec.message()));

  s.ioc = std::make_unique<net::io_context>(1);
  s.acceptor = std::make_unique<tcp::acceptor>(*s.ioc);
  const tcp::endpoint ep(address, s.options.port);
  s.acceptor->open(ep.protocol(), ec);
  // SO_REUSEADDR lets a restart bind through TIME_WAIT; a live listener still refuses.
  if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    s.acceptor.reset();
    s.ioc.reset();
    return make_error(fmt::format("metrics server: cannot listen on {}: {}", where, ec.message()));
  }
  s.bound_port = s.acceptor->local_endpoint().port();
  net::co_spawn(*s.ioc, s.accept_loop(), net::detached);
  s.thread = std::thread([&s] {
    try {
      s.ioc->run();
    } catch (const std::exception& e) {
      // Handlers catch their own errors; this is a last resort that keeps the process up.
      log()->error("metrics server: io thread stopped: {}", e.what());
    }
  });
  s.running = true;
  log()->info("metrics server: listening address={}:{}", s.options.bind_address, s.bound_port.load());
  return {};
}

uint16_t MetricsServer::port() const { return impl_->bound_port.load(); }

void MetricsServer::stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  s.running = false;
  net::post(*s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor->close(ignored);
  });
  // Sessions waiting on a read are abandoned: stopping the context and destroying it
  // destroys their coroutine frames, which closes their sockets.
  s.ioc->stop();
  if (s.thread.joinable()) s.thread.join();
  s.acceptor.reset();
  s.ioc.reset();
}

}  // namespace af::service
