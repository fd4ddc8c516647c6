#include "service/metrics_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace af::service {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct Reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  std::string content_length;
  bool keep_alive = false;
};

// A plain blocking HTTP/1.1 client over one connection (several requests on it to
// exercise keep-alive).
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  Reply request(http::verb method, const std::string& target, bool keep_alive = true) {
    http::request<http::empty_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    http::write(socket_, req);
    http::response_parser<http::string_body> parser;
    parser.skip(method == http::verb::head);
    http::read(socket_, buffer_, parser);
    const auto& res = parser.get();
    Reply r;
    r.status = res.result_int();
    r.content_type = std::string(res[http::field::content_type]);
    r.content_length = std::string(res[http::field::content_length]);
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    return r;
  }

  void send_raw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

  // Everything the server sends until it closes the connection.
  std::string read_until_closed() {
    std::string out;
    beast::error_code ec;
    char buf[4096];
    for (;;) {
      const size_t n = socket_.read_some(net::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    return out;
  }

  tcp::socket& socket() { return socket_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

Reply get(uint16_t port, const std::string& target) { return Client(port).request(http::verb::get, target, false); }

class MetricsServerTest : public ::testing::Test {
 protected:
  void start(MetricsServerOptions o = {}) {
    if (!o.metrics) o.metrics = [this] {
      metrics_thread = std::this_thread::get_id();
      return "# TYPE af_events_total counter\naf_events_total " + std::to_string(++scrapes) + "\n";
    };
    if (!o.health) o.health = [this] { return HealthStatus{healthy.load(), "warming up: 3/10 streams"}; };
    server.emplace(std::move(o));
    const Status st = server->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_NE(server->port(), 0);
  }

  std::atomic<int> scrapes{0};
  std::atomic<bool> healthy{true};
  std::thread::id metrics_thread;
  std::optional<MetricsServer> server;
};

TEST_F(MetricsServerTest, ServesMetricsWithPrometheusContentType) {
  start();
  const Reply r = get(server->port(), "/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body, "# TYPE af_events_total counter\naf_events_total 1\n");
  // The callback ran on the server's io thread, not on ours.
  EXPECT_NE(metrics_thread, std::this_thread::get_id());
  EXPECT_EQ(get(server->port(), "/metrics?name[]=x").body, "# TYPE af_events_total counter\naf_events_total 2\n");
}

TEST_F(MetricsServerTest, HealthzFollowsTheCallback) {
  start();
  Reply r = get(server->port(), "/healthz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ok\n");
  healthy = false;
  r = get(server->port(), "/healthz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "warming up: 3/10 streams\n");
  healthy = true;
  EXPECT_EQ(get(server->port(), "/healthz").status, 200u);
}

TEST_F(MetricsServerTest, UnknownPathAndMethod) {
  start();
  EXPECT_EQ(get(server->port(), "/").status, 404u);
  EXPECT_EQ(get(server->port(), "/metricsx").status, 404u);
  Client c(server->port());
  const Reply post = c.request(http::verb::post, "/metrics");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(c.request(http::verb::delete_, "/healthz").status, 405u);
  EXPECT_EQ(scrapes.load(), 0);  // neither ran the callback
}

TEST_F(MetricsServerTest, StatusJsonAndPageWithAStatusCallback) {
  MetricsServerOptions o;
  std::atomic<int> calls{0};
  o.status = [&calls] { return "{\"phase\":\"streaming\",\"n\":" + std::to_string(++calls) + "}"; };
  start(std::move(o));
  Client c(server->port());
  const Reply status = c.request(http::verb::get, "/status");
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(status.content_type, "application/json");
  EXPECT_EQ(status.body, "{\"phase\":\"streaming\",\"n\":1}");

  http::request<http::empty_body> req{http::verb::get, "/?every=5000", 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(c.socket(), req);
  beast::flat_buffer buffer;
  http::response<http::string_body> page;
  http::read(c.socket(), buffer, page);
  EXPECT_EQ(page.result_int(), 200u);
  EXPECT_EQ(page[http::field::content_type], "text/html; charset=utf-8");
  // The browser holds the page to itself: nothing but `status` from this server.
  EXPECT_EQ(page["Content-Security-Policy"],
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
            "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  EXPECT_EQ(page.body().rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.body().find("fetch(\"status\""), std::string::npos);
  // Self-contained: no URL to anywhere else (the SVG namespace is a name, not a load).
  std::string body = page.body();
  const std::string svg_ns = "http://www.w3.org/2000/svg";
  for (size_t at; (at = body.find(svg_ns)) != std::string::npos;) body.erase(at, svg_ns.size());
  EXPECT_EQ(body.find("http://"), std::string::npos);
  EXPECT_EQ(body.find("https://"), std::string::npos);
  EXPECT_EQ(body.find(" src="), std::string::npos);
  EXPECT_EQ(body.find("<link"), std::string::npos);
  EXPECT_EQ(calls.load(), 1);  // the page is static; only /status asks the callback

  EXPECT_EQ(c.request(http::verb::head, "/status").status, 200u);
  EXPECT_EQ(c.request(http::verb::post, "/status").status, 405u);
  const Reply missing = c.request(http::verb::get, "/nope");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.body, "not found; try /, /status, /metrics or /healthz\n");
}

TEST_F(MetricsServerTest, WithoutAStatusCallbackThereIsNoStatusPage) {
  start();
  EXPECT_EQ(get(server->port(), "/status").status, 404u);
  const Reply root = get(server->port(), "/");
  EXPECT_EQ(root.status, 404u);
  EXPECT_EQ(root.body, "not found; try /metrics or /healthz\n");
}

TEST_F(MetricsServerTest, ThrowingStatusCallbackGives500) {
  MetricsServerOptions o;
  o.status = []() -> std::string { throw std::runtime_error("board unavailable"); };
  start(std::move(o));
  const Reply r = get(server->port(), "/status");
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.body, "/status failed: board unavailable\n");
  EXPECT_EQ(get(server->port(), "/metrics").status, 200u);
}

TEST_F(MetricsServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Client c(server->port());
  for (int i = 1; i <= 3; ++i) {
    const Reply r = c.request(http::verb::get, "/metrics");
    EXPECT_EQ(r.status, 200u);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.body, "# TYPE af_events_total counter\naf_events_total " + std::to_string(i) + "\n");
  }
  EXPECT_EQ(c.request(http::verb::get, "/healthz").body, "ok\n");
  // Connection: close is honoured: the server answers, then closes.
  const Reply last = c.request(http::verb::get, "/healthz", false);
  EXPECT_FALSE(last.keep_alive);
  EXPECT_EQ(c.read_until_closed(), "");
}

TEST_F(MetricsServerTest, HeadHasHeadersButNoBody) {
  start();
  Client c(server->port());
  const Reply r = c.request(http::verb::head, "/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.content_length, std::to_string(std::string("# TYPE af_events_total counter\naf_events_total 1\n").size()));
  // The connection is still in sync after a HEAD.
  EXPECT_EQ(c.request(http::verb::get, "/healthz").body, "ok\n");
}

TEST_F(MetricsServerTest, GarbageAndDisconnectsDoNotStopTheServer) {
  start();
  {
    Client c(server->port());
    c.send_raw("\x16\x03\x01 this is not http\r\n\r\n");
    const std::string reply = c.read_until_closed();
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  }
  {
    Client c(server->port());  // half a request, then gone
    c.send_raw("GET /metrics HTTP/1.1\r\nHost: x\r\n");
  }
  {
    Client c(server->port());  // connects and leaves without a byte
  }
  {
    // A header far past the limit. The server answers 400 and closes while we are
    // still writing, so our write may fail (EPIPE) and the kernel may reset the
    // connection before the 400 arrives: only "a 400 or nothing" is certain.
    Client c(server->port());
    beast::error_code ec;
    net::write(c.socket(), net::buffer("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n"), ec);
    const std::string reply = c.read_until_closed();
    EXPECT_TRUE(reply.empty() || reply.rfind("HTTP/1.1 400", 0) == 0) << reply.substr(0, 200);
  }
  const Reply r = get(server->port(), "/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "# TYPE af_events_total counter\naf_events_total 1\n");
}

TEST_F(MetricsServerTest, ThrowingCallbackGives500AndTheServerGoesOn) {
  MetricsServerOptions o;
  std::atomic<bool> fail{true};
  o.metrics = [&fail]() -> std::string {
    if (fail) throw std::runtime_error("engine not ready");
    return "x 1\n";
  };
  start(std::move(o));
  const Reply r = get(server->port(), "/metrics");
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.body, "/metrics failed: engine not ready\n");
  fail = false;
  EXPECT_EQ(get(server->port(), "/metrics").body, "x 1\n");
}

TEST_F(MetricsServerTest, IdleConnectionsAreClosed) {
  MetricsServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(200);
  start(std::move(o));
  Client c(server->port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.read_until_closed(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(MetricsServerTest, PortInUseIsAnErrorNamingTheAddress) {
  start();
  MetricsServerOptions o;
  o.port = server->port();
  MetricsServer second(std::move(o));
  const Status st = second.start();
  ASSERT_FALSE(st.ok());
  const std::string port = std::to_string(server->port());
  EXPECT_NE(st.error().message.find("127.0.0.1:" + port), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().message, "metrics server: cannot listen on 127.0.0.1:" + port + ": Address already in use");
  second.stop();  // never started: a no-op
  EXPECT_EQ(get(server->port(), "/healthz").status, 200u);  // the first one is unaffected
}

TEST_F(MetricsServerTest, BadBindAddress) {
  MetricsServerOptions o;
  o.bind_address = "not-an-ip";
  MetricsServer s(std::move(o));
  const Status st = s.start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind("metrics server: bad bind address 'not-an-ip'", 0), 0u) << st.error().message;
}

TEST_F(MetricsServerTest, StopIsIdempotentAndClosesTheListener) {
  start();
  const uint16_t port = server->port();
  Client open_connection(port);  // an idle keep-alive connection must not block stop()
  EXPECT_EQ(open_connection.request(http::verb::get, "/healthz").status, 200u);
  const auto t0 = std::chrono::steady_clock::now();
  server->stop();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(open_connection.read_until_closed(), "");
  net::io_context ioc;
  tcp::socket s(ioc);
  beast::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_TRUE(ec) << "still accepting after stop()";
  // Restartable on the same port (SO_REUSEADDR through TIME_WAIT).
  MetricsServerOptions o;
  o.port = port;
  o.metrics = [] { return std::string("again 1\n"); };
  MetricsServer again(std::move(o));
  const Status st = again.start();
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(get(port, "/metrics").body, "again 1\n");
}

}  // namespace
}  // namespace af::service
