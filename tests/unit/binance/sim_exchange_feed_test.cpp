// LiveMarketFeed against the simulated exchange (src/sim) over TLS with its
// generated CA, with stream faults injected: the bars delivered must be exactly the
// exchange's bars (as its REST serves them), none missing, none doubled.

#include <gtest/gtest.h>

#include <chrono>

#include "common/interval.hpp"
#include "market_test_util.hpp"
#include "sim/sim_exchange.hpp"
#include "binance/binance_rest_client.hpp"
#include "net/http_client.hpp"
#include "binance/live_market_feed.hpp"
#include "runtime/warmup.hpp"

namespace af::binance {
namespace {

TEST(SimExchangeFeedTest, FuturesOverTlsWithFaultsIsExact) {
  test::TempDir dir;
  sim::SimExchangeOptions so;
  so.symbols = {"BTCUSDT", "ETHUSDT"};
  so.interval = "1m";
  so.speed = 60;  // one 1m bar per wall second
  so.tls_cert_dir = dir.str() + "/certs";
  so.strict_market_route = true;
  auto faults = sim::parse_fault_spec("duplicate=0.1,late_close=0.1,missing_close=0.15,disconnect=0.01,seed=3");
  ASSERT_TRUE(faults) << faults.error().message;
  so.faults = *faults;
  sim::SimExchange exchange(so);
  ASSERT_TRUE(exchange.start(0));
  const std::string base = "localhost:" + std::to_string(exchange.port());

  LiveMarketFeedOptions o;
  o.market = BinanceMarket::kFutures;
  o.universe = so.symbols;
  o.interval_ms = kMinuteMs;
  o.ws_url = "wss://" + base + "/market/stream";
  o.rest_url = "https://" + base;
  o.vision_url = "https://" + base;
  o.cache_dir = dir.str() + "/cache";
  o.ca_file = exchange.ca_file();
  o.buffer_ms = 5000;
  o.anchor_timeout_ms = 10'000;
  LiveMarketFeed feed(o);
  ASSERT_TRUE(feed.start());
  auto anchor = feed.wait_anchor();
  ASSERT_TRUE(anchor) << anchor.error().message;
  feed.begin_history(std::vector<int64_t>(o.universe.size(), warmup_start(*anchor, 3 * kHourMs, kHourMs)), true);
  std::vector<LiveFeedBar> got;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(feed.poll(got, 100)) << feed.error()->message;
  }
  feed.stop();
  const auto stats = feed.stats();
  const auto sim_stats = exchange.stats();

  // The exchange's own bars, read back over its REST API.
  BinanceRestOptions ro;
  ro.base_url = o.rest_url;
  ro.http.ca_file = o.ca_file;
  BinanceRestClient rest(ro);
  for (size_t s = 0; s < o.universe.size(); ++s) {
    std::vector<Bar> mine;
    for (const auto& b : got) {
      if (b.symbol == s) mine.push_back(b.bar);
    }
    // History is the 3 h lookback with its start moved up to the hour: at least 2 h
    // (120 bars) whatever minute the exchange's clock starts at; then live bars.
    ASSERT_GE(mine.size(), 123u) << o.universe[s];
    auto truth = rest.klines(o.universe[s], kMinuteMs, mine.front().ts, mine.back().ts + kMinuteMs);
    ASSERT_TRUE(truth) << truth.error().message;
    ASSERT_EQ(mine.size(), truth->size()) << o.universe[s] << ": missing or doubled bars";
    for (size_t i = 0; i < mine.size(); ++i) {
      ASSERT_EQ(mine[i].ts, (*truth)[i].ts) << o.universe[s] << " " << i;
      ASSERT_TRUE(mine[i].same_values((*truth)[i])) << o.universe[s] << " " << i;
    }
    EXPECT_GE(mine.back().ts, *anchor + 3 * kMinuteMs) << "live bars flowed";
    EXPECT_EQ(mine.front().ts % kHourMs, 0);
  }
  EXPECT_GT(sim_stats.missing_closes + sim_stats.late_closes + sim_stats.duplicates, 0u);
  EXPECT_GT(stats.live_bars, 0u);
  exchange.stop();
}

TEST(SimExchangeFeedTest, UntrustedCaIsRefused) {
  test::TempDir dir;
  sim::SimExchangeOptions so;
  so.tls_cert_dir = dir.str() + "/certs";
  sim::SimExchange exchange(so);
  ASSERT_TRUE(exchange.start(0));
  net::HttpClient http(net::HttpClientOptions{.connect_timeout_ms = 2000, .io_timeout_ms = 2000,
                                    .ca_file = "/etc/ssl/certs/ca-certificates.crt"});
  auto r = http.get("https://localhost:" + std::to_string(exchange.port()) + "/fapi/v1/time");
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().transient);
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
  net::HttpClient trusted(net::HttpClientOptions{.connect_timeout_ms = 2000, .io_timeout_ms = 2000, .ca_file = exchange.ca_file()});
  auto ok = trusted.get("https://localhost:" + std::to_string(exchange.port()) + "/fapi/v1/time");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200u);
  exchange.stop();
}

}  // namespace
}  // namespace af::binance
