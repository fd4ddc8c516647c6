// The database sinks' side of the one HTTP client (net/http_client.hpp): the URLs
// the sinks accept, and https certificate verification against `openssl
// s_server` with a throwaway CA (af::sim test certificates). (Once the sinks'
// own HttpPoster; its assertions kept, on net::parse_http_url and HttpClient.)

#include <gtest/gtest.h>

#include "clickhouse_test_support.hpp"
#include "net/http_client.hpp"
#include "net/http_url.hpp"
#include "sim/test_certs.hpp"
#include "support/process.hpp"

namespace af::net {
namespace {

using namespace std::chrono_literals;

HttpClientOptions with_timeout(int64_t ms, const std::string& ca_file = {}) {
  HttpClientOptions o;
  o.connect_timeout_ms = ms;
  o.io_timeout_ms = ms;
  o.ca_file = ca_file;
  return o;
}

TEST(HttpUrl, ParsesWhatTheSinksAccept) {
  auto u = parse_http_url("http://127.0.0.1:8123");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8123");
  EXPECT_EQ(u->base_path(), "");
  u = parse_http_url("https://dynamodb.eu-west-1.amazonaws.com/");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls());
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->base_path(), "");
  u = parse_http_url("http://[::1]:9000/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->base_path(), "/prefix");
  for (const char* bad : {"ftp://x", "http://", "http://h:0", "http://h:70000", "http://h:8a", "h:80",
                          "http://user:pw@h:80"}) {
    EXPECT_FALSE(parse_http_url(bad).ok()) << bad;
  }
}

TEST(HttpClient, ConnectionRefusedIsTransient) {
  auto u = parse_http_url("http://127.0.0.1:" + std::to_string(af::testing::free_port()));
  ASSERT_TRUE(u.ok());
  HttpClient client(with_timeout(2000));
  auto r = client.request("POST", *u, {}, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().transient);
  EXPECT_NE(r.error().message.find(": connect: "), std::string::npos) << r.error().message;
}

TEST(HttpClient, HttpsVerifiesTheCertificate) {
  af::testing::TempDir dir;
  auto certs = af::sim::generate_test_certs(dir.path().string());
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  const int port = af::testing::free_port();
  af::testing::ChildProcess server;
  ASSERT_TRUE(server.start({"openssl", "s_server", "-quiet", "-www", "-accept", std::to_string(port), "-cert",
                            certs->server_cert, "-key", certs->server_key},
                           dir / "s_server.log"));
  auto u = parse_http_url("https://localhost:" + std::to_string(port));
  ASSERT_TRUE(u.ok());
  HttpClient trusted(with_timeout(3000, certs->ca_cert));
  ASSERT_TRUE(trusted.prepare_tls().ok());
  Result<HttpResponse> r = make_error("not tried");
  ASSERT_TRUE(af::testing::wait_until(
      [&] {
        r = trusted.request("GET", *u);
        return r.ok() || !r.error().transient;
      },
      10s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  // The system store does not know the throwaway CA: refused, and not worth retrying.
  HttpClient untrusted(with_timeout(3000));
  ASSERT_TRUE(untrusted.prepare_tls().ok());
  auto bad = untrusted.request("GET", *u);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(bad.error().transient);
  EXPECT_NE(bad.error().message.find("TLS handshake failed"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace af::net
