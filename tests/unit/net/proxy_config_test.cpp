// The proxy policy without a network: NO_PROXY matching by curl's rules, proxy
// URLs (credentials become a Basic header and never appear in a message), and
// which variable or flag wins.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "net/no_proxy.hpp"
#include "net/proxy_config.hpp"

namespace af::net {
namespace {

TEST(NoProxyTest, MatchesHostsSuffixesIpsPortsAndStar) {
  EXPECT_TRUE(no_proxy_matches("example.com", "example.com", "443"));
  EXPECT_TRUE(no_proxy_matches("example.com", "api.example.com", "443"));
  EXPECT_TRUE(no_proxy_matches(".example.com", "api.example.com", "443"));
  EXPECT_TRUE(no_proxy_matches(".example.com", "example.com", "443"));
  EXPECT_FALSE(no_proxy_matches("example.com", "badexample.com", "443")) << "a suffix on a label boundary only";
  EXPECT_FALSE(no_proxy_matches("example.com", "example.com.evil.net", "443"));
  EXPECT_TRUE(no_proxy_matches("EXAMPLE.com", "Api.Example.COM", "443")) << "case-insensitive";
  EXPECT_TRUE(no_proxy_matches("foo, bar.org ,localhost", "localhost", "80")) << "comma list with blanks";
  EXPECT_TRUE(no_proxy_matches("foo bar.org", "x.bar.org", "80")) << "blank-separated";
  EXPECT_FALSE(no_proxy_matches("foo,,bar.org", "localhos", "80"));
  EXPECT_TRUE(no_proxy_matches("*", "anything.at.all", "1"));
  EXPECT_FALSE(no_proxy_matches("*.example.com", "api.example.com", "443")) << "no wildcards but a lone *";
  EXPECT_FALSE(no_proxy_matches("", "localhost", "80"));
  // IP addresses: literal, never as a suffix.
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1", "8080"));
  EXPECT_FALSE(no_proxy_matches("0.0.1", "127.0.0.1", "8080"));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "127.0.0.2", "8080"));
  EXPECT_FALSE(no_proxy_matches("localhost", "127.0.0.1", "8080")) << "names are not resolved";
  EXPECT_TRUE(no_proxy_matches("::1", "::1", "443"));
  EXPECT_TRUE(no_proxy_matches("[::1]", "::1", "443"));
  // A port limits the entry to it.
  EXPECT_TRUE(no_proxy_matches("localhost:8080", "localhost", "8080"));
  EXPECT_FALSE(no_proxy_matches("localhost:8080", "localhost", "8081"));
  EXPECT_TRUE(no_proxy_matches("[::1]:8080", "::1", "8080"));
  EXPECT_FALSE(no_proxy_matches("[::1]:8080", "::1", "443"));
  EXPECT_TRUE(no_proxy_matches("example.com:443", "api.example.com", "443"));
}

TEST(ProxyUrlTest, CredentialsBecomeABasicHeaderAndAreNeverShown) {
  auto p = parse_proxy_url("http://alice:s3cret@127.0.0.1:3128");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->url.host, "127.0.0.1");
  EXPECT_EQ(p->url.port, "3128");
  EXPECT_EQ(p->authorization, "Basic YWxpY2U6czNjcmV0");  // base64("alice:s3cret")
  EXPECT_EQ(p->display(), "http://127.0.0.1:3128");

  auto escaped = parse_proxy_url("http://bob%40corp:p%3Aw@proxy.corp");
  ASSERT_TRUE(escaped) << escaped.error().message;
  EXPECT_EQ(escaped->authorization, "Basic Ym9iQGNvcnA6cDp3");  // base64("bob@corp:p:w")
  EXPECT_EQ(escaped->url.port, "1080") << "curl's default proxy port";

  auto bare = parse_proxy_url("proxy.corp:8080/");
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->display(), "http://proxy.corp:8080");
  EXPECT_TRUE(bare->authorization.empty());

  auto v6 = parse_proxy_url("http://[::1]:3128");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->display(), "http://[::1]:3128");

  auto bad_port = parse_proxy_url("http://alice:s3cret@proxy:99999");
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error().message, "bad proxy URL 'http://alice:***@proxy:99999': port '99999' is out of range (1 to 65535)");
  auto https = parse_proxy_url("https://u:pw@proxy:443");
  ASSERT_FALSE(https);
  EXPECT_EQ(https.error().message,
            "bad proxy URL 'https://u:***@proxy:443': a proxy URL must be http://[user[:password]@]host[:port] (HTTPS "
            "and SOCKS proxies are not supported)");
  EXPECT_FALSE(parse_proxy_url("socks5://proxy:1080"));
  EXPECT_FALSE(parse_proxy_url("http://proxy:3128/path"));
  EXPECT_FALSE(parse_proxy_url("http://:pw@proxy:3128"));
  EXPECT_EQ(redact_userinfo("http://u:pw@h:1/x@y"), "http://u:***@h:1/x@y");
  EXPECT_EQ(redact_userinfo("http://h:1/a:b@c"), "http://h:1/a:b@c");
}

TEST(ProxyConfigTest, VariablesAsCurlReadsThemAndTheFlags) {
  std::map<std::string, std::string> env;
  auto getenv_fn = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto resolve = [&](ProxyFlags flags = {}) {
    auto c = resolve_proxy_config(flags, getenv_fn);
    EXPECT_TRUE(c) << c.error().message;
    return c ? *c : ProxyConfig{};
  };
  const Url wss = *parse_url("wss://fstream.binance.com/market/stream");
  const Url https = *parse_url("https://fapi.binance.com/fapi/v1/time");
  const Url http = *parse_url("http://127.0.0.1:8123/");
  const Url ws = *parse_url("ws://127.0.0.1:9000/stream");

  EXPECT_TRUE(resolve().empty());
  env["HTTPS_PROXY"] = "http://upper:1";
  env["https_proxy"] = "http://lower:2";
  auto c = resolve();
  ASSERT_NE(c.proxy_for(wss), nullptr);
  EXPECT_EQ(c.proxy_for(wss)->display(), "http://lower:2") << "lower case wins, as curl";
  EXPECT_EQ(c.proxy_for(https)->display(), "http://lower:2");
  EXPECT_EQ(c.proxy_for(http), nullptr) << "https_proxy is not for http://";

  env["HTTP_PROXY"] = "http://upper:3";
  ASSERT_NE(resolve().proxy_for(http), nullptr) << "HTTP_PROXY is read (never a CGI: no httpoxy)";
  EXPECT_EQ(resolve().proxy_for(http)->display(), "http://upper:3");
  env["http_proxy"] = "http://plain:4";
  EXPECT_EQ(resolve().proxy_for(ws)->display(), "http://plain:4") << "lower case wins";

  env.clear();
  env["ALL_PROXY"] = "http://all:5";
  env["https_proxy"] = "http://tls:6";
  c = resolve();
  EXPECT_EQ(c.proxy_for(http)->display(), "http://all:5") << "ALL_PROXY fills in";
  EXPECT_EQ(c.proxy_for(https)->display(), "http://tls:6");

  // Loopback is proxied unless NO_PROXY names it.
  EXPECT_NE(c.proxy_for(http), nullptr);
  env["NO_PROXY"] = "localhost,127.0.0.1";
  c = resolve();
  EXPECT_EQ(c.proxy_for(http), nullptr);
  EXPECT_NE(c.proxy_for(https), nullptr);

  // --proxy replaces every variable but NO_PROXY; --no-proxy ignores them all.
  c = resolve(ProxyFlags{.proxy = "http://flag:7"});
  EXPECT_EQ(c.proxy_for(https)->display(), "http://flag:7");
  EXPECT_EQ(c.proxy_for(wss)->display(), "http://flag:7");
  EXPECT_EQ(c.proxy_for(http), nullptr);
  EXPECT_TRUE(resolve(ProxyFlags{.no_proxy = true}).empty());

  env["https_proxy"] = "http://u:topsecret@tls:bad";
  auto bad = resolve_proxy_config({}, getenv_fn);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "https_proxy: bad proxy URL 'http://u:***@tls:bad': port 'bad' is not a whole number");
  auto empty_flag = resolve_proxy_config(ProxyFlags{.proxy = ""}, getenv_fn);
  ASSERT_FALSE(empty_flag);
  EXPECT_EQ(empty_flag.error().message, "--proxy: empty URL (use --no-proxy to connect directly)");
}

}  // namespace
}  // namespace af::net
