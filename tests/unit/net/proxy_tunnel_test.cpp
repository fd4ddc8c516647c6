// HttpClient's CONNECT tunnel against proxies that fail: nothing listening, a
// proxy that hangs up during the CONNECT exchange, one that never answers. (The
// working and refusing proxies are a real tinyproxy: tests/integration/proxy.)

#include <gtest/gtest.h>

#include "http_test_server.hpp"
#include "net/http_client.hpp"
#include "net/proxy_config.hpp"

namespace af::net {
namespace {

ProxyConfig proxy_at(const std::string& url) {
  auto p = parse_proxy_url(url);
  EXPECT_TRUE(p) << p.error().message;
  ProxyConfig c;
  c.http = c.https = *p;
  return c;
}

TEST(ProxyTunnelTest, AnUnreachableProxyIsNamed) {
  // A bound socket that does not listen: connecting is refused.
  boost::asio::io_context ioc;
  test::tcp::acceptor closed(ioc);
  closed.open(test::tcp::v4());
  closed.bind(test::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string proxy_port = std::to_string(closed.local_endpoint().port());

  HttpClient http(HttpClientOptions{.connect_timeout_ms = 2000, .io_timeout_ms = 2000,
                                    .proxy = proxy_at("http://alice:pw@127.0.0.1:" + proxy_port)});
  auto r = http.get("http://127.0.0.1:9/ping");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "GET http://127.0.0.1:9/ping: proxy http://127.0.0.1:" + proxy_port +
                                   " unreachable: connect: Connection refused");
}

TEST(ProxyTunnelTest, AProxyThatHangsUpDuringConnectIsNamedAndGetsTheCredentials) {
  std::string method, target, host, authorization;
  test::HttpTestServer proxy([&](const test::HttpTestServer::Request& req, int) {
    method = std::string(req.method_string());
    target = std::string(req.target());
    host = std::string(req[boost::beast::http::field::host]);
    authorization = std::string(req[boost::beast::http::field::proxy_authorization]);
    return test::HttpTestServer::Action::kCloseWithoutAnswer;
  });
  HttpClient http(HttpClientOptions{.connect_timeout_ms = 2000, .io_timeout_ms = 2000,
                                    .proxy = proxy_at("http://alice:s3cret@127.0.0.1:" +
                                                      std::to_string(proxy.port()))});
  auto r = http.get("https://api.example:443/x");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "GET https://api.example:443/x: proxy " + proxy.url() +
                                   " closed the connection during CONNECT api.example:443");
  EXPECT_EQ(r.error().message.find("s3cret"), std::string::npos);
  EXPECT_EQ(method, "CONNECT");
  EXPECT_EQ(target, "api.example:443");
  EXPECT_EQ(host, "api.example:443");
  EXPECT_EQ(authorization, "Basic YWxpY2U6czNjcmV0");
  EXPECT_EQ(proxy.requests(), 1);
}

TEST(ProxyTunnelTest, AProxyThatNeverAnswersTimesOut) {
  test::HttpTestServer proxy([](const test::HttpTestServer::Request&, int) {
    return test::HttpTestServer::Action::kStall;
  });
  HttpClient http(HttpClientOptions{.connect_timeout_ms = 300, .io_timeout_ms = 2000,
                                    .proxy = proxy_at(proxy.url())});
  auto r = http.get("http://[::1]:8123/ping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "GET http://::1:8123/ping: proxy " + proxy.url() + ": CONNECT [::1]:8123: timed out after 300 ms");
  proxy.stop();
}

TEST(ProxyTunnelTest, NoProxyNamesTheDestinationAndTheConnectionIsDirect) {
  test::HttpTestServer proxy([](const test::HttpTestServer::Request&, int) {
    return test::HttpTestServer::Action::kCloseWithoutAnswer;
  });
  test::HttpTestServer server([](const test::HttpTestServer::Request&, int) {
    return test::HttpTestServer::Action::kAnswer;
  });
  ProxyConfig config = proxy_at(proxy.url());
  config.no_proxy = "example.org, 127.0.0.1:" + std::to_string(server.port());
  HttpClient http(HttpClientOptions{.connect_timeout_ms = 2000, .io_timeout_ms = 2000, .proxy = config});
  auto r = http.get(server.url() + "/direct");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "GET /direct ");
  EXPECT_EQ(proxy.accepted(), 0);
}

}  // namespace
}  // namespace af::net
