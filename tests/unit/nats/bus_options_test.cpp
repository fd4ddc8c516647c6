// --bus URL lists and NATS credentials from URLs and the environment; credentials
// never appear in what is printed (redacted()) nor in an error message.

#include <gtest/gtest.h>

#include <map>

#include "nats/bus_options.hpp"

namespace af::nats {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
const EnvLookup kNoEnv = env_of({});

TEST(BusOptions, ServerListWithoutCredentials) {
  auto o = parse_bus_options("nats://127.0.0.1:4222, nats://127.0.0.1:4223,tls://nats.example:7422", kNoEnv);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->servers, (std::vector<std::string>{"nats://127.0.0.1:4222", "nats://127.0.0.1:4223", "tls://nats.example:7422"}));
  EXPECT_FALSE(o->has_credentials());
  EXPECT_EQ(o->redacted(), "nats://127.0.0.1:4222,nats://127.0.0.1:4223,tls://nats.example:7422");
}

TEST(BusOptions, DefaultSchemeAndPort) {
  auto o = parse_bus_options("127.0.0.1", kNoEnv);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->servers, std::vector<std::string>{"nats://127.0.0.1:4222"});
}

TEST(BusOptions, UserAndPasswordFromTheUrlAreRemovedFromTheServers) {
  auto o = parse_bus_options("nats://alice:s%40cr%3At@127.0.0.1:4222,nats://alice:s%40cr%3At@127.0.0.1:4223", kNoEnv);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->user, "alice");
  EXPECT_EQ(o->password, "s@cr:t");
  EXPECT_EQ(o->servers[0], "nats://127.0.0.1:4222");
  EXPECT_EQ(o->redacted(), "nats://***@127.0.0.1:4222,nats://***@127.0.0.1:4223");
  EXPECT_EQ(o->redacted().find("alice"), std::string::npos);
}

TEST(BusOptions, TokenFromTheUrl) {
  auto o = parse_bus_options("nats://t0ken@127.0.0.1:4222", kNoEnv);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->token, "t0ken");
  EXPECT_TRUE(o->user.empty());
  EXPECT_EQ(o->redacted(), "nats://***@127.0.0.1:4222");
}

TEST(BusOptions, CredentialsFromTheEnvironment) {
  auto up = parse_bus_options("nats://127.0.0.1:4222", env_of({{"AF_NATS_USER", "bob"}, {"AF_NATS_PASSWORD", "pw"}}));
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(up->user, "bob");
  EXPECT_EQ(up->password, "pw");
  EXPECT_EQ(up->redacted(), "nats://***@127.0.0.1:4222");
  auto token = parse_bus_options("nats://127.0.0.1:4222", env_of({{"AF_NATS_TOKEN", "tk"}}));
  ASSERT_TRUE(token);
  EXPECT_EQ(token->token, "tk");
  auto creds = parse_bus_options("nats://127.0.0.1:4222", env_of({{"AF_NATS_CREDS", "/etc/af/bus.creds"}}));
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->creds_file, "/etc/af/bus.creds");
  EXPECT_EQ(creds->redacted(), "nats://127.0.0.1:4222");  // a path, not a secret
}

TEST(BusOptions, UrlCredentialsWinOverTheEnvironment) {
  auto o = parse_bus_options("nats://alice:pw@127.0.0.1:4222", env_of({{"AF_NATS_TOKEN", "tk"}}));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->user, "alice");
  EXPECT_TRUE(o->token.empty());
}

TEST(BusOptions, ErrorsNameTheUrlWithoutItsCredentials) {
  auto bad_port = parse_bus_options("nats://alice:hunter2@127.0.0.1:42x2", kNoEnv);
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error().message, "--bus: URL 1 (nats://***@127.0.0.1:42x2): port '42x2' is not a number in 1..65535");
  auto mixed = parse_bus_options("nats://alice:hunter2@h1:1,nats://alice:other@h2:2", kNoEnv);
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().message,
            "--bus: URL 2 (nats://***@h2:2) carries other credentials than URL 1; the members of one cluster share them");
  for (const auto& e : {bad_port.error().message, mixed.error().message}) {
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    EXPECT_EQ(e.find("alice"), std::string::npos) << e;
  }
}

TEST(BusOptions, MalformedLists) {
  EXPECT_EQ(parse_bus_options("", kNoEnv).error().message,
            "--bus: no URL given (expected nats://host:port[,nats://host:port...])");
  EXPECT_EQ(parse_bus_options("nats://h:1,", kNoEnv).error().message, "--bus: URL 2 is empty (a stray ',')");
  EXPECT_EQ(parse_bus_options("http://h:1", kNoEnv).error().message, "--bus: URL 1: scheme 'http' is not nats:// or tls://");
  EXPECT_EQ(parse_bus_options("nats://h:0", kNoEnv).error().message,
            "--bus: URL 1 (nats://h:0): port '0' is not a number in 1..65535");
  EXPECT_EQ(parse_bus_options("nats://:4222", kNoEnv).error().message, "--bus: URL 1 (nats://:4222): no host");
  EXPECT_EQ(parse_bus_options("nats://h:1/x", kNoEnv).error().message,
            "--bus: URL 1 (nats://h:1/x): a NATS URL has no path, query or spaces");
  EXPECT_FALSE(parse_bus_options("nats://u:%zz@h:1", kNoEnv));
  EXPECT_FALSE(parse_bus_options("nats://u:%4@h:1", kNoEnv));
}

TEST(BusOptions, AmbiguousEnvironmentIsRefused) {
  auto two = parse_bus_options("nats://h:1", env_of({{"AF_NATS_TOKEN", "tk"}, {"AF_NATS_CREDS", "/x"}}));
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message,
            "--bus: more than one kind of NATS credentials in the environment (AF_NATS_USER/AF_NATS_PASSWORD, "
            "AF_NATS_TOKEN, AF_NATS_CREDS): set only one");
  auto half = parse_bus_options("nats://h:1", env_of({{"AF_NATS_USER", "bob"}}));
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().message, "--bus: AF_NATS_USER is set without AF_NATS_PASSWORD");
}

}  // namespace
}  // namespace af::nats
