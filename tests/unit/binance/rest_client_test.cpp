// BinanceRestClient and net::HttpClient against a Beast server on loopback: pagination,
// the open bar, weight budget, 429/418, errors, timeouts, TLS verification.

#include <gtest/gtest.h>

#include <algorithm>

#include <charconv>
#include <map>
#include <mutex>

#include "loopback_server.hpp"
#include "market_test_util.hpp"
#include "binance/binance_rest_client.hpp"
#include "net/http_url.hpp"

namespace af::binance {
namespace {

using test::HttpRequest;
using test::HttpResponse;
namespace http = boost::beast::http;

constexpr int64_t kIv = 60'000;
constexpr int64_t kT0 = 1'700'000'040'000;

std::map<std::string, std::string> query_of(std::string_view target) {
  std::map<std::string, std::string> q;
  const size_t qm = target.find('?');
  if (qm == std::string_view::npos) return q;
  std::string_view rest = target.substr(qm + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    const size_t eq = kv.find('=');
    q[std::string(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return q;
}

int64_t to_i64(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

HttpResponse json(http::status status, std::string body) {
  HttpResponse r{status, 11};
  r.set(http::field::content_type, "application/json");
  r.body() = std::move(body);
  return r;
}

// A fake Binance REST endpoint over a fixed bar series.
struct FakeExchange {
  std::vector<Bar> bars;
  int64_t server_time = 0;
  int weight = 0;
  int weight_per_request = 0;
  std::vector<std::string> targets;
  std::mutex mutex;

  HttpResponse handle(const HttpRequest& req) {
    std::lock_guard lock(mutex);
    const std::string target(req.target());
    targets.push_back(target);
    weight += weight_per_request;
    HttpResponse r = answer(target);
    r.set("X-MBX-USED-WEIGHT-1M", std::to_string(weight));
    return r;
  }
  HttpResponse answer(const std::string& target) {
    if (target == "/fapi/v1/time" || target == "/api/v3/time") {
      return json(http::status::ok, "{\"serverTime\":" + std::to_string(server_time) + "}");
    }
    auto q = query_of(target);
    if (q["symbol"] != "BTCUSDT") return json(http::status::bad_request, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
    const int64_t start = to_i64(q["startTime"]), end = to_i64(q["endTime"]), limit = to_i64(q["limit"]);
    std::string body = "[";
    int n = 0;
    for (const Bar& b : bars) {
      if (b.ts < start || b.ts > end || n >= limit) continue;
      if (b.ts > server_time) continue;  // not opened yet
      Bar shown = b;
      if (b.ts + kIv - 1 > server_time) shown.close = b.open;  // the open bar, partial
      body += (n ? "," : "") + test::rest_row(shown, kIv);
      ++n;
    }
    return json(http::status::ok, body + "]");
  }
};

BinanceRestOptions options_for(unsigned short port, std::vector<int64_t>* sleeps) {
  BinanceRestOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.http.connect_timeout_ms = 2000;
  o.http.io_timeout_ms = 2000;
  o.backoff_initial_ms = 1;
  o.sleep = [sleeps](int64_t ms) { sleeps->push_back(ms); };
  return o;
}

// options_for with a monotonic clock that reads `*steady` (ms), moved by the test.
BinanceRestOptions options_with_clock(unsigned short port, std::vector<int64_t>* sleeps, const int64_t* steady) {
  auto o = options_for(port, sleeps);
  o.steady_ms = [steady] { return *steady; };
  return o;
}

TEST(HttpUrlTest, Parse) {
  auto u = net::parse_url("wss://fstream.binance.com/market/stream?streams=btcusdt@kline_1m");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "fstream.binance.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/market/stream?streams=btcusdt@kline_1m");
  EXPECT_TRUE(u->tls());
  auto p = net::parse_url("http://127.0.0.1:8080");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->port, "8080");
  EXPECT_EQ(p->target, "/");
  EXPECT_FALSE(p->tls());
  EXPECT_EQ(net::parse_url("ftp://x").error().message, "bad URL 'ftp://x': scheme must be http, https, ws or wss");
  EXPECT_FALSE(net::parse_url("http://host:99999/"));
  EXPECT_EQ(net::url_encode("BTC USDT/1"), "BTC%20USDT%2F1");
}

TEST(RestClientTest, PaginatesAndDropsTheOpenBar) {
  FakeExchange ex;
  ex.bars = test::synthetic_bars(kT0, kIv, 3600, 7);
  // The exchange clock sits inside bar 3500: bars 0..3499 are closed.
  ex.server_time = kT0 + 3500 * kIv + 1234;
  test::LoopbackServer server([&](const HttpRequest& r) { return ex.handle(r); });
  std::vector<int64_t> sleeps;
  BinanceRestClient client(options_for(server.port(), &sleeps));
  auto got = client.klines("BTCUSDT", kIv, kT0 + 10 * kIv, kT0 + 4000 * kIv);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 3490u);
  for (size_t i = 0; i < got->size(); ++i) {
    ASSERT_TRUE((*got)[i].same_values(ex.bars[10 + i])) << i;
    ASSERT_EQ((*got)[i].origin, BarOrigin::kRest);
  }
  // time, then pages of 1500 starting where the previous one ended.
  ASSERT_EQ(ex.targets.size(), 4u);
  EXPECT_EQ(ex.targets[0], "/fapi/v1/time");
  EXPECT_EQ(ex.targets[1], "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=" + std::to_string(kT0 + 10 * kIv) +
                               "&endTime=" + std::to_string(kT0 + 4000 * kIv - 1) + "&limit=1500");
  EXPECT_NE(ex.targets[2].find("startTime=" + std::to_string(kT0 + 1510 * kIv)), std::string::npos);
  EXPECT_TRUE(sleeps.empty());
  // [from, to) is half-open: `to` itself is not returned.
  auto two = client.klines("BTCUSDT", kIv, kT0, kT0 + 2 * kIv);
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].ts, kT0 + kIv);
  // A short range asks for no more rows than it holds (weight 1, not 10).
  EXPECT_NE(ex.targets.back().find("&limit=2"), std::string::npos) << ex.targets.back();
}

TEST(RestClientTest, SpotUsesItsPathsAndLimit) {
  FakeExchange ex;
  ex.bars = test::synthetic_bars(kT0, kIv, 1200, 8);
  ex.server_time = kT0 + 2000 * kIv;
  test::LoopbackServer server([&](const HttpRequest& r) { return ex.handle(r); });
  std::vector<int64_t> sleeps;
  auto o = options_for(server.port(), &sleeps);
  o.market = BinanceMarket::kSpot;
  BinanceRestClient client(o);
  auto got = client.klines("BTCUSDT", kIv, kT0, kT0 + 1200 * kIv);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 1200u);
  ASSERT_EQ(ex.targets.size(), 3u);
  EXPECT_EQ(ex.targets[0], "/api/v3/time");
  EXPECT_NE(ex.targets[1].find("/api/v3/klines?"), std::string::npos);
  EXPECT_NE(ex.targets[1].find("&limit=1000"), std::string::npos);
}

size_t time_requests(FakeExchange& ex) {
  std::lock_guard lock(ex.mutex);
  return static_cast<size_t>(std::count_if(ex.targets.begin(), ex.targets.end(),
                                           [](const std::string& t) { return t == "/fapi/v1/time"; }));
}

// A history load or a backfill burst asks for many ranges that closed long ago:
// one server time read serves a minute of them (it was one per call: half the
// requests, and half the weight, of a 200-symbol backfill).
TEST(RestClientTest, OneServerTimeReadServesAMinuteOfClosedRanges) {
  FakeExchange ex;
  ex.bars = test::synthetic_bars(kT0, kIv, 600, 9);
  ex.server_time = kT0 + 600 * kIv + 5'000;
  test::LoopbackServer server([&](const HttpRequest& r) { return ex.handle(r); });
  std::vector<int64_t> sleeps;
  int64_t steady = 1'000'000;
  BinanceRestClient client(options_with_clock(server.port(), &sleeps, &steady));
  for (int i = 0; i < 50; ++i) {
    auto got = client.klines("BTCUSDT", kIv, kT0 + i * 10 * kIv, kT0 + (i + 1) * 10 * kIv);
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(got->size(), 10u) << i;
    steady += 1'000;
  }
  EXPECT_EQ(time_requests(ex), 1u);
  EXPECT_EQ(client.time_reads(), 1);
  steady += 11'000;  // 61 s since the reading: read again
  ASSERT_TRUE(client.klines("BTCUSDT", kIv, kT0, kT0 + kIv));
  EXPECT_EQ(time_requests(ex), 2u);
}

// A range whose last bar closes after the floor of the earlier reading is asked
// for only after a fresh read, so a bar that closed since is returned and the bar
// still open is not.
TEST(RestClientTest, ARangeNearTheExchangesTimeReadsItAfreshFirst) {
  FakeExchange ex;
  ex.bars = test::synthetic_bars(kT0, kIv, 600, 10);
  ex.server_time = kT0 + 100 * kIv + 500;  // inside bar 100
  test::LoopbackServer server([&](const HttpRequest& r) { return ex.handle(r); });
  std::vector<int64_t> sleeps;
  int64_t steady = 0;
  BinanceRestClient client(options_with_clock(server.port(), &sleeps, &steady));
  auto first = client.klines("BTCUSDT", kIv, kT0, kT0 + 200 * kIv);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 100u);  // bar 100 still open
  // The exchange moves on 5 minutes while only 1 s passed here (a fast simulated
  // exchange; or a reading that was slow to arrive): the old floor would refuse
  // bars 100..104, which have closed.
  {
    std::lock_guard lock(ex.mutex);
    ex.server_time = kT0 + 105 * kIv + 500;
    ex.targets.clear();
  }
  steady += 1'000;
  auto second = client.klines("BTCUSDT", kIv, kT0 + 100 * kIv, kT0 + 200 * kIv);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->size(), 5u);
  EXPECT_EQ(second->back().ts, kT0 + 104 * kIv);
  ASSERT_GE(ex.targets.size(), 2u);
  EXPECT_EQ(ex.targets[0], "/fapi/v1/time");  // read before the klines request
}

// The floor grows with the monotonic time since the reading, less 0.1% of it
// for the two clocks' rates: 30 s after a reading, a bar that closed 29.97 s of
// exchange time after it is taken without a read, one that closed 29.99 s after
// it is not.
TEST(RestClientTest, TheFloorAllowsForTheClocksRates) {
  FakeExchange ex;
  ex.bars = test::synthetic_bars(kT0, kIv, 300, 11);
  const int64_t reading = kT0 + 100 * kIv - 30'000;  // 30 s before bar 99 closes
  ex.server_time = reading;
  test::LoopbackServer server([&](const HttpRequest& r) { return ex.handle(r); });
  std::vector<int64_t> sleeps;
  int64_t steady = 0;
  BinanceRestClient client(options_with_clock(server.port(), &sleeps, &steady));
  ASSERT_TRUE(client.server_time());
  {
    std::lock_guard lock(ex.mutex);
    ex.server_time = reading + 40'000;  // the exchange's true time when asked again
  }
  // 30,000 ms later: floor = reading + 30,000 - 30 - 1, 30 ms short of bar 99's close.
  steady = 30'000;
  ASSERT_TRUE(client.klines("BTCUSDT", kIv, kT0 + 99 * kIv, kT0 + 100 * kIv));
  EXPECT_EQ(client.time_reads(), 2);
  // Read again at steady 30,000 (reading + 40,000); 30,100 ms after a reading of
  // `reading`, the floor would be past bar 99's close.
  {
    std::lock_guard lock(ex.mutex);
    ex.server_time = reading;
  }
  ASSERT_TRUE(client.server_time());
  steady += 30'100;
  auto got = client.klines("BTCUSDT", kIv, kT0 + 99 * kIv, kT0 + 100 * kIv);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 1u);
  EXPECT_EQ(client.time_reads(), 3);  // none more
}

TEST(RestClientTest, WeightBudgetWaitsForTheNextMinute) {
  FakeExchange ex;
  ex.bars = test::synthetic_bars(kT0, kIv, 100, 9);
  ex.server_time = kT0 + 200 * kIv;
  ex.weight_per_request = 10;
  test::LoopbackServer server([&](const HttpRequest& r) { return ex.handle(r); });
  std::vector<int64_t> sleeps;
  auto o = options_for(server.port(), &sleeps);
  o.weight_budget = 25;
  BinanceRestClient client(o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.server_time());
  EXPECT_EQ(client.used_weight(), 30);
  ASSERT_TRUE(client.server_time());  // over budget: waits first
  ASSERT_EQ(sleeps.size(), 1u);
  EXPECT_GT(sleeps[0], 1000);
  EXPECT_LE(sleeps[0], 61'000);
  EXPECT_EQ(client.throttle_waits(), 1);
}

TEST(RestClientTest, TooManyRequestsHonoursRetryAfter) {
  int calls = 0;
  test::LoopbackServer server([&](const HttpRequest&) {
    if (++calls <= 2) {
      auto r = json(http::status::too_many_requests, "{\"code\":-1003,\"msg\":\"Too many requests.\"}");
      r.set(http::field::retry_after, calls == 1 ? "3" : "1");
      return r;
    }
    return json(http::status::ok, "{\"serverTime\":1700000000000}");
  });
  std::vector<int64_t> sleeps;
  BinanceRestClient client(options_for(server.port(), &sleeps));
  auto t = client.server_time();
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, 1700000000000);
  EXPECT_EQ(sleeps, (std::vector<int64_t>{3000, 1000}));
}

TEST(RestClientTest, LongBanIsATransientErrorNotAWait) {
  test::LoopbackServer server([&](const HttpRequest&) {
    auto r = json(static_cast<http::status>(418), "{\"code\":-1003,\"msg\":\"Way too many requests; IP banned.\"}");
    r.set(http::field::retry_after, "7200");
    return r;
  });
  std::vector<int64_t> sleeps;
  BinanceRestClient client(options_for(server.port(), &sleeps));
  auto t = client.server_time();
  ASSERT_FALSE(t);
  EXPECT_TRUE(t.error().transient);
  EXPECT_EQ(t.error().message, "GET http://127.0.0.1:" + std::to_string(server.port()) +
                                   "/fapi/v1/time: HTTP 418: Way too many requests; IP banned. (code -1003) "
                                   "(Retry-After 7200 s)");
  EXPECT_TRUE(sleeps.empty());
}

TEST(RestClientTest, ClientErrorNamesUrlAndBinanceMessage) {
  FakeExchange ex;
  ex.server_time = kT0;
  test::LoopbackServer server([&](const HttpRequest& r) { return ex.handle(r); });
  std::vector<int64_t> sleeps;
  BinanceRestClient client(options_for(server.port(), &sleeps));
  auto got = client.klines("NOPE", kIv, kT0 - 10 * kIv, kT0);
  ASSERT_FALSE(got);
  EXPECT_FALSE(got.error().transient);
  EXPECT_EQ(got.error().message, "GET http://127.0.0.1:" + std::to_string(server.port()) +
                                     "/fapi/v1/klines?symbol=NOPE&interval=1m&startTime=" +
                                     std::to_string(kT0 - 10 * kIv) + "&endTime=" + std::to_string(kT0 - 1) +
                                     "&limit=10: HTTP 400: Invalid symbol. (code -1121)");
}

TEST(RestClientTest, ServerErrorsAreRetriedThenTransient) {
  int calls = 0;
  test::LoopbackServer server([&](const HttpRequest&) {
    ++calls;
    return json(http::status::service_unavailable, "upstream down");
  });
  std::vector<int64_t> sleeps;
  auto o = options_for(server.port(), &sleeps);
  o.max_attempts = 3;
  BinanceRestClient client(o);
  auto t = client.server_time();
  ASSERT_FALSE(t);
  EXPECT_TRUE(t.error().transient);
  EXPECT_EQ(calls, 3);
  EXPECT_NE(t.error().message.find("HTTP 503: upstream down"), std::string::npos);
  EXPECT_EQ(sleeps, (std::vector<int64_t>{1, 2, 4}));
}

TEST(RestClientTest, RefusedConnectionIsTransient) {
  unsigned short port = 0;
  {
    test::LoopbackServer server([](const HttpRequest&) { return json(http::status::ok, "{}"); });
    port = server.port();
  }
  std::vector<int64_t> sleeps;
  auto o = options_for(port, &sleeps);
  o.max_attempts = 2;
  BinanceRestClient client(o);
  auto t = client.server_time();
  ASSERT_FALSE(t);
  EXPECT_TRUE(t.error().transient);
  EXPECT_NE(t.error().message.find("connect: "), std::string::npos) << t.error().message;
}

TEST(HttpClientTest, ReadTimeout) {
  std::atomic<bool> release{false};
  test::LoopbackServer server([&](const HttpRequest&) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return json(http::status::ok, "{}");
  });
  net::HttpClient http(net::HttpClientOptions{.connect_timeout_ms = 1000, .io_timeout_ms = 200});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = http.get("http://127.0.0.1:" + std::to_string(server.port()) + "/slow");
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  release = true;
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().transient);
  EXPECT_NE(r.error().message.find("/slow: read: "), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(HttpClientTest, TlsVerifiesPeerAndHostName) {
  test::TempDir dir;
  std::string ca_file;
  auto tls = test::make_test_tls(dir.str(), ca_file);
  if (!tls) GTEST_SKIP() << "openssl tool not available";
  test::LoopbackServer server([](const HttpRequest& r) { return json(http::status::ok, std::string(r.target())); },
                              {}, tls);
  const std::string port = std::to_string(server.port());
  net::HttpClient trusted(net::HttpClientOptions{.connect_timeout_ms = 2000, .io_timeout_ms = 2000, .ca_file = ca_file});
  auto ok = trusted.get("https://localhost:" + port + "/api/v3/time");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200u);
  EXPECT_EQ(ok->body, "/api/v3/time");
  // The certificate names localhost, not 127.0.0.1: refused, and not worth retrying.
  auto wrong_host = trusted.get("https://127.0.0.1:" + port + "/x");
  ASSERT_FALSE(wrong_host);
  EXPECT_FALSE(wrong_host.error().transient);
  EXPECT_NE(wrong_host.error().message.find("TLS handshake"), std::string::npos) << wrong_host.error().message;
  // Without our CA the peer is not trusted.
  net::HttpClient untrusted(net::HttpClientOptions{.connect_timeout_ms = 2000, .io_timeout_ms = 2000,
                                         .ca_file = "/etc/ssl/certs/ca-certificates.crt"});
  auto unknown_ca = untrusted.get("https://localhost:" + port + "/x");
  ASSERT_FALSE(unknown_ca);
  EXPECT_NE(unknown_ca.error().message.find("certificate verify failed"), std::string::npos)
      << unknown_ca.error().message;
}

TEST(RestParseTest, RealSamples) {
  const std::string dir = test::shared_samples_dir();
  if (dir.empty()) GTEST_SKIP() << "AF_SHARED_DIR/data absent";
  auto futures = BinanceRestClient::parse_klines(
      test::read_file(dir + "/rest_futures_klines_BTCUSDT_5m_2021-03-21_hexdocs.json"), "hexdocs");
  ASSERT_TRUE(futures) << futures.error().message;
  ASSERT_EQ(futures->size(), 2u);
  EXPECT_EQ((*futures)[0].ts, 1616338800000);
  EXPECT_EQ((*futures)[0].high, 57315.00);
  EXPECT_EQ((*futures)[1].trades, 2602.0);
  EXPECT_EQ((*futures)[1].taker_buy_quote_volume, 3457649.49072);
  auto spot = BinanceRestClient::parse_klines(
      test::read_file(dir + "/rest_spot_klines_BTCUSDT_1m_2021-10-22_nautilus.json"), "nautilus");
  ASSERT_TRUE(spot) << spot.error().message;
  ASSERT_EQ(spot->size(), 10u);
  EXPECT_EQ((*spot)[0].ts, 1634943780000);
  EXPECT_EQ((*spot)[0].open, 60685.22);
  for (size_t i = 1; i < spot->size(); ++i) EXPECT_EQ((*spot)[i].ts - (*spot)[i - 1].ts, kIv);
  EXPECT_FALSE(BinanceRestClient::parse_klines("{\"code\":1}", "x"));
  EXPECT_EQ(BinanceRestClient::parse_klines("[[1,\"a\"]]", "p").error().message,
            "p: kline 0: expected an array of 12 fields");
}

}  // namespace
}  // namespace af::binance
