// The one HTTP client (net/http_client.hpp) against a keep-alive server on
// loopback: a connection reused across requests and re-opened transparently when
// the server closed it, never reused after a failure; a deadline on each step; the
// TLS verification failure's message.

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "net/http_client.hpp"
#include "unit/binance/loopback_server.hpp"  // make_test_tls
#include "unit/net/http_test_server.hpp"

namespace af::net {
namespace {

using namespace std::chrono_literals;
using Action = test::HttpTestServer::Action;
using Clock = std::chrono::steady_clock;

HttpClientOptions fast(int64_t connect_ms = 2000, int64_t io_ms = 2000) {
  HttpClientOptions o;
  o.connect_timeout_ms = connect_ms;
  o.io_timeout_ms = io_ms;
  return o;
}

Url url_of(const std::string& text) { return parse_url(text).value(); }

TEST(HttpClientKeepAlive, OneConnectionServesEveryRequestToTheSameServer) {
  test::HttpTestServer server([](const auto&, int) { return Action::kAnswer; });
  HttpClient client(fast());
  for (int i = 0; i < 3; ++i) {
    auto r = client.get(server.url() + "/get/" + std::to_string(i));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "GET /get/" + std::to_string(i) + " ");
  }
  auto posted = client.request("POST", url_of(server.url() + "/post"), {{"X-Test", "1"}}, "rows");
  ASSERT_TRUE(posted) << posted.error().message;
  EXPECT_EQ(posted->body, "POST /post rows");
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(server.requests(), 4);
}

TEST(HttpClientKeepAlive, AnotherServerTakesTheConnectionsPlace) {
  test::HttpTestServer a([](const auto&, int) { return Action::kAnswer; });
  test::HttpTestServer b([](const auto&, int) { return Action::kAnswer; });
  HttpClient client(fast());
  for (const auto* server : {&a, &a, &b, &a}) {
    auto r = client.get(server->url() + "/x");
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ(a.accepted(), 2);  // one connection is kept: going to b closed a's
  EXPECT_EQ(b.accepted(), 1);
}

TEST(HttpClientKeepAlive, ConnectionCloseIsHonoured) {
  test::HttpTestServer server([](const auto&, int) { return Action::kAnswer; });
  HttpClient client(fast());
  for (int i = 0; i < 2; ++i) {
    auto r = client.request("GET", url_of(server.url() + "/x"), {{"Connection", "close"}});
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ(server.accepted(), 2);
}

// The server answers and then closes the connection, as one whose keep-alive
// timeout fired while the client was idle: the next request opens a new
// connection without an error.
TEST(HttpClientKeepAlive, IdleConnectionClosedByTheServerIsReopened) {
  test::HttpTestServer server([](const auto&, int) { return Action::kAnswerThenClose; });
  HttpClient client(fast());
  for (int i = 0; i < 3; ++i) {
    auto r = client.get(server.url() + "/x");
    ASSERT_TRUE(r) << r.error().message;
    std::this_thread::sleep_for(20ms);  // the server's FIN arrives while idle
  }
  EXPECT_EQ(server.accepted(), 3);
  EXPECT_EQ(server.requests(), 3);
}

// The race the idle check cannot see: the server closes the kept-alive
// connection as the next request arrives on it. The client sends that request
// once more, on a new connection.
TEST(HttpClientKeepAlive, RequestOnAConnectionTheServerDroppedGoesOnceMoreOnANewOne) {
  test::HttpTestServer server(
      [](const auto&, int nth) { return nth == 1 ? Action::kCloseWithoutAnswer : Action::kAnswer; });
  HttpClient client(fast());
  auto first = client.get(server.url() + "/1");
  ASSERT_TRUE(first) << first.error().message;
  auto second = client.request("POST", url_of(server.url() + "/2"), {}, "body");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->body, "POST /2 body");
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(server.requests(), 3);  // /1, /2 dropped, /2 again
}

// On a fresh connection the same drop is the server's answer: an error, not
// sent again.
TEST(HttpClientKeepAlive, DropOnAFreshConnectionIsAnError) {
  test::HttpTestServer server([](const auto&, int) { return Action::kCloseWithoutAnswer; });
  HttpClient client(fast());
  const std::string url = server.url() + "/x";
  auto r = client.get(url);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "GET " + url + ": read: end of stream");
  EXPECT_EQ(server.requests(), 1);
}

// A request that timed out is not sent again, and its connection is not reused.
TEST(HttpClientKeepAlive, NoReuseAfterATimeout) {
  test::HttpTestServer server([](const auto&, int nth) { return nth == 1 ? Action::kStall : Action::kAnswer; });
  HttpClient client(fast(2000, 300));
  ASSERT_TRUE(client.get(server.url() + "/1"));
  auto stalled = client.get(server.url() + "/2");
  ASSERT_FALSE(stalled);
  EXPECT_EQ(stalled.error().message, "GET " + server.url() + "/2: read: The socket was closed due to a timeout");
  auto after = client.get(server.url() + "/3");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientTimeouts, Read) {
  test::HttpTestServer server([](const auto&, int) { return Action::kStall; });
  HttpClient client(fast(2000, 200));
  const auto t0 = Clock::now();
  auto r = client.get(server.url() + "/slow");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "GET " + server.url() + "/slow: read: The socket was closed due to a timeout");
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST(HttpClientTimeouts, Write) {
  test::HttpTestServer server{test::HttpTestServer::Mute{}};
  HttpClient client(fast(2000, 300));
  // Far more than the socket buffers of both ends hold while nobody reads.
  const std::string body(64 << 20, 'x');
  const auto t0 = Clock::now();
  auto r = client.request("POST", url_of(server.url() + "/big"), {}, body);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "POST " + server.url() + "/big: write: The socket was closed due to a timeout");
  EXPECT_LT(Clock::now() - t0, 3s);
}

TEST(HttpClientTimeouts, TlsHandshake) {
  test::HttpTestServer server{test::HttpTestServer::Mute{}};  // takes the connection, never says hello
  HttpClient client(fast(300, 2000));
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x";
  const auto t0 = Clock::now();
  auto r = client.get(url);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "GET " + url + ": TLS handshake failed: The socket was closed due to a timeout");
  EXPECT_LT(Clock::now() - t0, 2s);
}

// A listening socket whose accept queue is full drops further SYNs: the TCP
// connect never completes.
TEST(HttpClientTimeouts, Connect) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(50ms);
  HttpClient client(fast(300, 2000));
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x";
  const auto t0 = Clock::now();
  auto r = client.get(url);
  const auto took = Clock::now() - t0;
  for (int fd : fillers) ::close(fd);
  ::close(listener);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "GET " + url + ": connect: The socket was closed due to a timeout");
  EXPECT_LT(took, 2s);
}

TEST(HttpClientTls, VerificationFailureIsFatalAndSaysWhy) {
  char tmpl[] = "/tmp/af_net_tls_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::string ca_file;
  auto tls = test::make_test_tls(dir, ca_file);
  if (!tls) GTEST_SKIP() << "openssl tool not available";
  test::HttpTestServer server([](const auto&, int) { return Action::kAnswer; }, tls);
  const std::string port = std::to_string(server.port());

  HttpClient trusted([&] {
    auto o = fast();
    o.ca_file = ca_file;
    return o;
  }());
  for (int i = 0; i < 2; ++i) {
    auto ok = trusted.get("https://localhost:" + port + "/a");
    ASSERT_TRUE(ok) << ok.error().message;
  }
  EXPECT_EQ(server.accepted(), 1);  // kept alive over TLS too

  const std::string wrong_host = "https://127.0.0.1:" + port + "/x";  // the certificate names localhost
  auto refused = trusted.get(wrong_host);
  ASSERT_FALSE(refused);
  EXPECT_FALSE(refused.error().transient);
  EXPECT_EQ(refused.error().message.rfind("GET " + wrong_host + ": TLS handshake failed: certificate verify failed", 0),
            0u)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("(IP address mismatch)"), std::string::npos) << refused.error().message;

  HttpClient untrusted([] {
    auto o = fast();
    o.ca_file = "/etc/ssl/certs/ca-certificates.crt";
    return o;
  }());
  const std::string url = "https://localhost:" + port + "/x";
  auto unknown = untrusted.get(url);
  ASSERT_FALSE(unknown);
  EXPECT_FALSE(unknown.error().transient);
  EXPECT_EQ(unknown.error().message.rfind("GET " + url + ": TLS handshake failed: certificate verify failed", 0), 0u)
      << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("(unable to get local issuer certificate)"), std::string::npos)
      << unknown.error().message;
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST(HttpClientTls, CaFileThatDoesNotLoadIsReportedByPrepareTls) {
  HttpClient client([] {
    auto o = fast();
    o.ca_file = "/nonexistent/ca.pem";
    return o;
  }());
  Status st = client.prepare_tls();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message.rfind("TLS: cannot load CA file '/nonexistent/ca.pem': ", 0), 0u)
      << st.error().message;
}

TEST(HttpUrl, OneParserForEveryClient) {
  auto u = parse_http_url("http://[::1]:9000/prefix/?x=1");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->host_header(), "[::1]:9000");
  EXPECT_EQ(u->base_path(), "/prefix");
  EXPECT_EQ(parse_url("https://h:443/").value().host_header(), "h");
  EXPECT_EQ(parse_url("http://user:pw@h:80/").error().message,
            "bad URL 'http://user:pw@h:80/': credentials in the URL are not supported");
  EXPECT_EQ(parse_url("http://h:0").error().message, "bad URL 'http://h:0': port '0' is out of range (1 to 65535)");
  EXPECT_EQ(parse_http_url("wss://h").error().message,
            "bad URL 'wss://h': expected http://host[:port][/path] or https://...");
  EXPECT_TRUE(parse_url("wss://h"));
}

}  // namespace
}  // namespace af::net
