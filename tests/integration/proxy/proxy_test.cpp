// Every outgoing connection through a real HTTP CONNECT proxy: Debian's
// tinyproxy, three instances started by scripts/test_servers.sh (open, basic
// auth, one that tunnels only to port 443), in front of the simulated exchange
// over TLS (its own CA: verification runs end to end, against the exchange's
// name, not the proxy's) and of ClickHouse over plain HTTP.
//  - `signal` through the proxy (HTTPS_PROXY) predicts; tinyproxy's log shows the
//    CONNECTs of the WebSocket (wss://localhost), REST and the archive
//    (https://127.0.0.1) and the exchange saw all three kinds of traffic;
//  - the proxy's basic auth through --proxy (the password never printed), a wrong
//    password and none refused with the proxy's status;
//  - a proxy that refuses the exchange's port gives the clear one-line error;
//  - NO_PROXY naming the exchange bypasses that refusing proxy.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <regex>

#include "common/time.hpp"
#include "net/http_client.hpp"
#include "net/proxy_config.hpp"
#include "sim/sim_exchange.hpp"
#include "support/child_process.hpp"
#include "support/process.hpp"

namespace af {
namespace {

using testing::ChildProcess;
using testing::read_file;
using testing::run_command;
using testing::split_lines;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

const std::string kBinary = AF_BINARY;
constexpr auto kLong = std::chrono::seconds(120);

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

size_t data_lines(const std::string& csv) {
  const auto lines = split_lines(read_file(csv));
  return lines.empty() ? 0 : lines.size() - 1;
}

// Occurrences of `needle` in `text`.
size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string pipeline_yaml(const std::string& csv) {
  return "name: through_a_proxy\n"
         "signal_generation:\n"
         "  mode: stream\n"
         "  warmup: {lookback_days: 2}\n"
         "  scheduling: {interval: 1m, buffer_minutes: 1}\n"
         "  on_prediction:\n"
         "    - using: sinks.csv_append\n"
         "      params: {path: " + csv + ", dedup_key: [ts, symbol]}\n"
         "pipeline:\n"
         "  - data:\n"
         "      using: data.binance_futures\n"
         "      outputs: {frame: ohlcv}\n"
         "      params: {universe: [BTCUSDT, ETHUSDT], interval: 1m}\n"
         "  - features:\n"
         "      using: features.rsi\n"
         "      inputs: {column: ohlcv.close}\n"
         "      outputs: {columns: [rsi_14]}\n"
         "      params: {window: 14}\n"
         "  - model:\n"
         "      using: models.linear\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params: {features: [rsi_14], weights: [-0.04], bias: 2.0}\n";
}

class ProxyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (env("AF_TINYPROXY_URL").empty()) return;
    mirror_ = new TempDir();
    auto gen = run_command(kBinary + " synth-data --out " + (*mirror_ / "mirror") +
                           " --symbols BTCUSDT,ETHUSDT --interval 1m --from 2024-01-01 --to 2024-01-20");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
  }
  static void TearDownTestSuite() {
    delete mirror_;
    mirror_ = nullptr;
  }

  void SetUp() override {
    open_ = env("AF_TINYPROXY_URL");
    if (open_.empty())
      GTEST_SKIP() << "AF_TINYPROXY_URL is not set: start the proxies with scripts/test_servers.sh start DIR, then "
                      "eval \"$(scripts/test_servers.sh env DIR)\"";
    sim::SimExchangeOptions so;
    so.data_dir = *mirror_ / "mirror";
    so.start_ms = parse_iso8601("2024-01-10T00:07:00Z");
    so.speed = 600;
    so.tls_cert_dir = dir_ / "certs";
    exchange_ = std::make_unique<sim::SimExchange>(so);
    auto started = exchange_->start(0);
    ASSERT_TRUE(started) << started.error().message;
    port_ = std::to_string(exchange_->port());
  }
  void TearDown() override {
    if (exchange_) exchange_->stop();
  }

  // `signal` against the exchange over TLS: the WebSocket on wss://localhost,
  // REST and the archive on https://127.0.0.1, so that the proxy's log tells
  // them apart. `env` replaces the proxy variables of this process.
  std::unique_ptr<ChildProcess> start_signal(const std::string& tag, std::vector<std::string> extra,
                                             std::vector<std::string> env) {
    write_file(dir_ / (tag + ".yaml"), pipeline_yaml(dir_ / (tag + ".csv")));
    std::vector<std::string> argv{kBinary, "--log-level", "info", "signal", dir_ / (tag + ".yaml"),
                                  "--state-dir", dir_ / (tag + "-state"), "--anchor-timeout", "8",
                                  "--ca-file", exchange_->ca_file(),
                                  "--binance-ws-url", "wss://localhost:" + port_ + "/market/stream",
                                  "--binance-rest-url", "https://127.0.0.1:" + port_,
                                  "--binance-vision-url", "https://127.0.0.1:" + port_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                             "no_proxy", "NO_PROXY"}) {
      bool given = false;
      for (const auto& e : env) given = given || e.rfind(std::string(name) + "=", 0) == 0;
      if (!given) env.push_back(std::string(name) + "=");
    }
    return std::make_unique<ChildProcess>(argv, dir_ / (tag + ".out"), dir_ / (tag + ".err"), env);
  }

  // Runs until `rows` predictions, then a clean SIGTERM.
  void run_until_predictions(ChildProcess& p, const std::string& tag, size_t rows) {
    const std::string csv = dir_ / (tag + ".csv");
    EXPECT_TRUE(wait_until([&] { return data_lines(csv) >= rows || !p.running(); }, kLong)) << p.err();
    EXPECT_TRUE(p.running()) << "the service ended by itself:\n" << p.err();
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(kLong), 0) << p.err();
    EXPECT_GE(data_lines(csv), rows);
  }

  static TempDir* mirror_;
  TempDir dir_;
  std::unique_ptr<sim::SimExchange> exchange_;
  std::string port_;
  std::string open_;
};

TempDir* ProxyTest::mirror_ = nullptr;

TEST_F(ProxyTest, SignalPredictsThroughTheProxyWithTlsEndToEnd) {
  const std::string log = env("AF_TINYPROXY_LOG");
  const size_t ws_before = count(read_file(log), "CONNECT localhost:" + port_ + " ");
  const size_t http_before = count(read_file(log), "CONNECT 127.0.0.1:" + port_ + " ");
  auto p = start_signal("open", {}, {"HTTPS_PROXY=" + open_});
  run_until_predictions(*p, "open", 20);
  const std::string after = read_file(log);
  EXPECT_GE(count(after, "CONNECT localhost:" + port_ + " "), ws_before + 1) << "the WebSocket\n" << after;
  EXPECT_GE(count(after, "CONNECT 127.0.0.1:" + port_ + " "), http_before + 2) << "REST and the archive\n" << after;
  const auto stats = exchange_->stats();
  EXPECT_GT(stats.ws_connections, 0u);
  EXPECT_GT(stats.rest_requests, 0u);
  EXPECT_GT(stats.archive_requests, 0u);
  EXPECT_NE(p->err().find("proxy https=" + open_ + " http=- no_proxy=-"), std::string::npos) << p->err();
}

TEST_F(ProxyTest, BasicAuthThroughTheFlagAndTheWrongPasswordIsRefused) {
  const std::string auth = env("AF_TINYPROXY_AUTH_URL");
  const std::string password = env("AF_TINYPROXY_AUTH_PASSWORD");
  ASSERT_FALSE(auth.empty() || password.empty());
  const std::string log = env("AF_TINYPROXY_AUTH_LOG");
  const size_t before = count(read_file(log), "CONNECT localhost:" + port_ + " ");
  // --proxy replaces the variables: the open proxy in HTTPS_PROXY is not used.
  auto p = start_signal("auth", {"--proxy", auth}, {"HTTPS_PROXY=http://127.0.0.1:9"});
  run_until_predictions(*p, "auth", 10);
  EXPECT_GT(count(read_file(log), "CONNECT localhost:" + port_ + " "), before);
  EXPECT_EQ(p->err().find(password), std::string::npos) << "the password is never logged";
  EXPECT_EQ(p->out().find(password), std::string::npos);

  auto proxy = net::parse_proxy_url(auth);
  ASSERT_TRUE(proxy) << proxy.error().message;
  const std::string display = proxy->display();
  const std::string url = "https://127.0.0.1:" + port_ + "/fapi/v1/time";
  auto through = [&](const std::string& proxy_url) {
    net::ProxyConfig c;
    c.https = *net::parse_proxy_url(proxy_url);
    net::HttpClient http(net::HttpClientOptions{.connect_timeout_ms = 5000, .io_timeout_ms = 5000,
                                                .ca_file = exchange_->ca_file(), .proxy = c});
    return http.get(url);
  };
  auto ok = through(auth);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200u);

  const std::string wrong = std::regex_replace(auth, std::regex(":" + password + "@"), ":not-the-password@");
  auto refused = through(wrong);
  ASSERT_FALSE(refused);
  EXPECT_FALSE(refused.error().transient);
  // tinyproxy 1.11 answers a wrong password with 401, missing credentials with 407.
  EXPECT_EQ(refused.error().message,
            "GET " + url + ": proxy " + display + " refused CONNECT 127.0.0.1:" + port_ + ": 401 Unauthorized");
  auto anonymous = through(display);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().message, "GET " + url + ": proxy " + display + " refused CONNECT 127.0.0.1:" + port_ +
                                           ": 407 Proxy Authentication Required");
}

TEST_F(ProxyTest, ARefusingProxyIsAClearErrorAndNoProxyBypassesIt) {
  const std::string refusing = env("AF_TINYPROXY_REFUSING_URL");
  ASSERT_FALSE(refusing.empty());
  const std::string expected = "proxy " + refusing + " refused CONNECT localhost:" + port_ + ": 403 Access violation";
  auto p = start_signal("refused", {}, {"https_proxy=" + refusing});
  EXPECT_NE(p->wait(kLong), 0) << p->err();
  EXPECT_NE(p->err().find("ws connect failed connection=0 attempt=1 retry_in_ms="), std::string::npos) << p->err();
  EXPECT_NE(p->err().find(" error=" + expected + "\n"), std::string::npos) << p->err();
  EXPECT_EQ(exchange_->stats().ws_connections, 0u);

  // The same refusing proxy, with NO_PROXY naming both hosts: direct, and it works.
  const size_t connects = count(read_file(env("AF_TINYPROXY_REFUSING_LOG")), ":" + port_ + " HTTP/1.1");
  auto bypass = start_signal("bypass", {}, {"https_proxy=" + refusing, "NO_PROXY=localhost,127.0.0.1:" + port_});
  run_until_predictions(*bypass, "bypass", 10);
  EXPECT_EQ(count(read_file(env("AF_TINYPROXY_REFUSING_LOG")), ":" + port_ + " HTTP/1.1"), connects);
}

// The sinks' client over plain HTTP: CONNECT as well (one path for every scheme).
TEST_F(ProxyTest, ClickHouseOverPlainHttpGoesThroughTheTunnel) {
  const std::string clickhouse = env("AF_CLICKHOUSE_URL");
  if (clickhouse.empty()) GTEST_SKIP() << "AF_CLICKHOUSE_URL is not set (scripts/test_servers.sh)";
  auto url = net::parse_http_url(clickhouse + "/ping");
  ASSERT_TRUE(url) << url.error().message;
  const std::string log = env("AF_TINYPROXY_LOG");
  const std::string line = "CONNECT 127.0.0.1:" + url->port + " HTTP/1.1";
  const size_t before = count(read_file(log), line);
  net::ProxyConfig c;
  c.http = *net::parse_proxy_url(open_);
  net::HttpClient http(net::HttpClientOptions{.connect_timeout_ms = 5000, .io_timeout_ms = 5000, .proxy = c});
  auto r = http.request("GET", *url);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "Ok.\n");
  EXPECT_EQ(count(read_file(log), line), before + 1) << read_file(log);
}

}  // namespace
}  // namespace af
