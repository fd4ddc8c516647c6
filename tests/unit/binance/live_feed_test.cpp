// LiveMarketFeed end to end against a fake Binance on loopback (WS + REST, 1s spot
// bars in real time): anchor, REST history, then live bars through lost x=true,
// lost bars and a dropped connection: every bar exactly once, in order, no gap.

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <map>
#include <thread>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "loopback_server.hpp"
#include "market_test_util.hpp"
#include "binance/live_market_feed.hpp"
#include "runtime/warmup.hpp"

namespace af::binance {
namespace {

using test::HttpRequest;
using test::HttpResponse;
namespace http = boost::beast::http;

constexpr int64_t kIv = 1000;  // spot 1s klines: real time is fast enough for a test
const std::vector<std::string> kUniverse{"BTCUSDT", "ETHUSDT"};

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

// The exchange's one true bar for (symbol, ts).
Bar truth(size_t symbol, int64_t ts) {
  const uint64_t h = mix(static_cast<uint64_t>(ts) * 31 + symbol);
  Bar b;
  b.ts = ts;
  b.open = 100 + static_cast<double>(h % 1000) / 100.0;
  b.close = 100 + static_cast<double>((h >> 10) % 1000) / 100.0;
  b.high = std::max(b.open, b.close) + 0.5;
  b.low = std::min(b.open, b.close) - 0.5;
  b.volume = static_cast<double>((h >> 20) % 10000) / 1000.0;
  b.quote_volume = b.volume * 100;
  b.trades = static_cast<double>((h >> 30) % 50);
  b.taker_buy_volume = 0;
  b.taker_buy_quote_volume = 0;
  return b;
}
bool x_true_lost(size_t symbol, int64_t ts) { return mix(static_cast<uint64_t>(ts) + 7 * symbol) % 4 == 0; }
bool bar_lost(size_t symbol, int64_t ts) { return mix(static_cast<uint64_t>(ts) * 3 + symbol) % 9 == 0; }

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

HttpResponse rest_answer(const HttpRequest& req) {
  const std::string target(req.target());
  HttpResponse r{http::status::ok, 11};
  if (target == "/api/v3/time") {
    r.body() = "{\"serverTime\":" + std::to_string(now_ms()) + "}";
    return r;
  }
  auto q = query_of(target);
  size_t sym = 0;
  while (sym < kUniverse.size() && kUniverse[sym] != q["symbol"]) ++sym;
  if (sym == kUniverse.size() || q["interval"] != "1s") return HttpResponse{http::status::bad_request, 11};
  int64_t start = 0, end = 0, limit = 0;
  std::from_chars(q["startTime"].data(), q["startTime"].data() + q["startTime"].size(), start);
  std::from_chars(q["endTime"].data(), q["endTime"].data() + q["endTime"].size(), end);
  std::from_chars(q["limit"].data(), q["limit"].data() + q["limit"].size(), limit);
  const int64_t now = now_ms();
  std::string body = "[";
  int n = 0;
  for (int64_t ts = bucket_start(start + kIv - 1, kIv); ts <= end && ts <= now && n < limit; ts += kIv, ++n) {
    body += (n ? "," : "") + test::rest_row(truth(sym, ts), kIv);  // includes the open bar: the client must drop it
  }
  r.body() = body + "]";
  return r;
}

TEST(LiveMarketFeedTest, HistoryThenLiveGaplessThroughFaults) {
  std::atomic<int> sessions{0};
  std::atomic<bool> quit{false};
  test::LoopbackServer server(rest_answer, [&](test::WsPeer& peer) {
    const int session = ++sessions;
    const int64_t began = now_ms();
    std::thread reader([&peer] {
      std::string ignored;
      while (peer.read(ignored)) {
      }
    });
    std::vector<int64_t> last(kUniverse.size(), 0);
    while (!quit) {
      if (session == 1 && now_ms() - began > 2500) break;  // the link dies once
      const int64_t cur = bucket_start(now_ms(), kIv);
      bool ok = true;
      for (size_t s = 0; s < kUniverse.size() && ok; ++s) {
        if (last[s] != 0 && last[s] != cur && !x_true_lost(s, last[s]) && !bar_lost(s, last[s])) {
          ok = peer.send(test::kline_frame(kUniverse[s], "1s", kIv, truth(s, last[s]), true, now_ms()));
        }
        if (!bar_lost(s, cur)) ok = ok && peer.send(test::kline_frame(kUniverse[s], "1s", kIv, truth(s, cur), false, now_ms()));
        last[s] = cur;
      }
      if (!ok) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    peer.close();
    reader.join();
  });
  LiveMarketFeedOptions o;
  o.market = BinanceMarket::kSpot;
  o.universe = kUniverse;
  o.interval_ms = kIv;
  o.ws_url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/stream";
  o.rest_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.buffer_ms = 300;
  o.anchor_timeout_ms = 5000;
  LiveMarketFeed feed(o);
  ASSERT_TRUE(feed.start());
  auto anchor = feed.wait_anchor();
  ASSERT_TRUE(anchor) << anchor.error().message;
  const int64_t lookback = 20 * kIv, align = 5 * kIv;
  feed.begin_history(std::vector<int64_t>(kUniverse.size(), warmup_start(*anchor, lookback, align)), true);
  std::vector<LiveFeedBar> got;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(6500);
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(feed.poll(got, 100));
  }
  quit = true;
  feed.stop();
  const auto stats = feed.stats();

  int64_t start = *anchor - lookback;
  start = bucket_start(start, align) == start ? start : bucket_start(start, align) + align;
  for (size_t s = 0; s < kUniverse.size(); ++s) {
    std::vector<LiveFeedBar> mine;
    for (const auto& b : got) {
      if (b.symbol == s) mine.push_back(b);
    }
    // 15..20 history bars, then a few seconds of live ones (how many depends on load).
    ASSERT_GT(mine.size(), 18u) << kUniverse[s];
    size_t live = 0;
    for (const auto& b : mine) live += !b.history;
    EXPECT_GE(live, 3u) << kUniverse[s];
    for (size_t i = 0; i < mine.size(); ++i) {
      const int64_t ts = start + static_cast<int64_t>(i) * kIv;
      ASSERT_EQ(mine[i].bar.ts, ts) << kUniverse[s] << " bar " << i << ": missing or doubled";
      ASSERT_TRUE(mine[i].bar.same_values(truth(s, ts))) << kUniverse[s] << " " << i;
      ASSERT_EQ(mine[i].history, ts < *anchor);
      if (ts < *anchor) {
        ASSERT_EQ(mine[i].bar.origin, BarOrigin::kRest);
      }
    }
  }
  EXPECT_GE(stats.reconnects, 1u);
  EXPECT_GT(stats.live_bars_fetched, 0u);                  // lost bars filled over REST
  EXPECT_GT(stats.live_bars, stats.live_bars_fetched);     // and the rest from the stream
}

// One closed bar dated an hour ahead, its event time consistent with it: it must
// not move the feed's exchange clock, nor be emitted, nor make the bars up to it
// gaps; every real bar still arrives once, in order.
TEST(LiveMarketFeedTest, AFutureDatedClosedBarIsHeldBackAndTheStreamGoesOn) {
  std::atomic<bool> quit{false};
  std::atomic<bool> future_sent{false};
  test::LoopbackServer server(rest_answer, [&](test::WsPeer& peer) {
    const int64_t began = now_ms();
    std::thread reader([&peer] {
      std::string ignored;
      while (peer.read(ignored)) {
      }
    });
    std::vector<int64_t> last(kUniverse.size(), 0);
    while (!quit) {
      const int64_t cur = bucket_start(now_ms(), kIv);
      bool ok = true;
      for (size_t s = 0; s < kUniverse.size() && ok; ++s) {
        if (last[s] != 0 && last[s] != cur) {
          ok = peer.send(test::kline_frame(kUniverse[s], "1s", kIv, truth(s, last[s]), true, now_ms()));
        }
        ok = ok && peer.send(test::kline_frame(kUniverse[s], "1s", kIv, truth(s, cur), false, now_ms()));
        last[s] = cur;
      }
      if (ok && !future_sent && now_ms() - began > 1500) {
        const int64_t future = cur + 3600 * kIv;
        ok = peer.send(test::kline_frame("BTCUSDT", "1s", kIv, truth(0, future), true, future + kIv));
        future_sent = true;
      }
      if (!ok) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    peer.close();
    reader.join();
  });
  LiveMarketFeedOptions o;
  o.market = BinanceMarket::kSpot;
  o.universe = kUniverse;
  o.interval_ms = kIv;
  o.ws_url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/stream";
  o.rest_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.buffer_ms = 300;
  o.anchor_timeout_ms = 5000;
  LiveMarketFeed feed(o);
  ASSERT_TRUE(feed.start());
  auto anchor = feed.wait_anchor();
  ASSERT_TRUE(anchor) << anchor.error().message;
  feed.begin_history(std::vector<int64_t>(kUniverse.size(), warmup_start(*anchor, 5 * kIv, kIv)), true);
  std::vector<LiveFeedBar> got;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(5000);
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(feed.poll(got, 100));
  }
  quit = true;
  feed.stop();
  ASSERT_TRUE(future_sent);
  const auto stats = feed.stats();
  EXPECT_GE(stats.future_bars, 1u);
  EXPECT_EQ(stats.real_gaps, 0u);
  EXPECT_EQ(stats.missing_bars, 0u);
  for (size_t s = 0; s < kUniverse.size(); ++s) {
    std::vector<LiveFeedBar> mine;
    for (const auto& b : got) {
      if (b.symbol == s) mine.push_back(b);
    }
    size_t live = 0;
    for (size_t i = 0; i < mine.size(); ++i) {
      live += !mine[i].history;
      if (i > 0) {
        ASSERT_EQ(mine[i].bar.ts, mine[i - 1].bar.ts + kIv) << kUniverse[s] << " bar " << i;
      }
      ASSERT_TRUE(mine[i].bar.same_values(truth(s, mine[i].bar.ts))) << kUniverse[s] << " " << i;
      ASSERT_LE(mine[i].bar.ts, now_ms()) << kUniverse[s] << ": a bar from the future was emitted";
    }
    EXPECT_GE(live, 3u) << kUniverse[s] << " went on streaming after the future-dated bar";
  }
}

TEST(LiveMarketFeedTest, NoMessageWithinTheAnchorTimeoutIsAnError) {
  test::LoopbackServer server(rest_answer, [](test::WsPeer& peer) {
    std::string ignored;
    while (peer.read(ignored)) {
    }
  });
  LiveMarketFeedOptions o;
  o.market = BinanceMarket::kSpot;
  o.universe = kUniverse;
  o.interval_ms = kIv;
  o.ws_url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/stream";
  o.rest_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.anchor_timeout_ms = 300;
  LiveMarketFeed feed(o);
  ASSERT_TRUE(feed.start());
  auto anchor = feed.wait_anchor();
  ASSERT_FALSE(anchor);
  EXPECT_EQ(anchor.error().message, "live feed: no kline message from " + o.ws_url + " within 0 s");
  feed.stop();
}

TEST(LiveEndpointsTest, OptionsThenEnvironmentThenBinance) {
  LiveMarketFeedOptions o;
  unsetenv("ALPHA_FORGE_BINANCE_WS_URL");
  unsetenv("ALPHA_FORGE_BINANCE_REST_URL");
  unsetenv("ALPHA_FORGE_BINANCE_VISION_URL");
  auto e = resolve_live_endpoints(o);
  EXPECT_EQ(e.ws_url, "wss://fstream.binance.com/market/stream");
  EXPECT_EQ(e.rest_url, "https://fapi.binance.com");
  EXPECT_EQ(e.vision_url, "https://data.binance.vision");
  o.market = BinanceMarket::kSpot;
  e = resolve_live_endpoints(o);
  EXPECT_EQ(e.ws_url, "wss://stream.binance.com:9443/stream");
  EXPECT_EQ(e.rest_url, "https://api.binance.com");
  setenv("ALPHA_FORGE_BINANCE_REST_URL", "http://127.0.0.1:1", 1);
  EXPECT_EQ(resolve_live_endpoints(o).rest_url, "http://127.0.0.1:1");
  o.rest_url = "http://127.0.0.1:2";
  EXPECT_EQ(resolve_live_endpoints(o).rest_url, "http://127.0.0.1:2");
  unsetenv("ALPHA_FORGE_BINANCE_REST_URL");
}

// One base URL sets all three endpoints of a server that serves them all (issue 18,
// item 6); an endpoint's own option wins, then the base option, then the
// endpoint's own variable, then the base variable.
TEST(LiveEndpoints, BaseUrlSetsAllThree) {
  LiveMarketFeedOptions o;
  o.market = BinanceMarket::kFutures;
  unsetenv("ALPHA_FORGE_BINANCE_WS_URL");
  unsetenv("ALPHA_FORGE_BINANCE_REST_URL");
  unsetenv("ALPHA_FORGE_BINANCE_VISION_URL");
  unsetenv("ALPHA_FORGE_BINANCE_BASE_URL");
  o.base_url = "http://127.0.0.1:28765/";
  auto e = resolve_live_endpoints(o);
  EXPECT_EQ(e.ws_url, "ws://127.0.0.1:28765/market/stream");
  EXPECT_EQ(e.rest_url, "http://127.0.0.1:28765");
  EXPECT_EQ(e.vision_url, "http://127.0.0.1:28765");
  o.market = BinanceMarket::kSpot;
  o.base_url = "https://sim.local:9443";
  EXPECT_EQ(resolve_live_endpoints(o).ws_url, "wss://sim.local:9443/stream");
  o.rest_url = "http://127.0.0.1:2";
  EXPECT_EQ(resolve_live_endpoints(o).rest_url, "http://127.0.0.1:2");
  o.rest_url.clear();
  setenv("ALPHA_FORGE_BINANCE_REST_URL", "http://127.0.0.1:3", 1);
  EXPECT_EQ(resolve_live_endpoints(o).rest_url, "https://sim.local:9443");  // the base option beats a variable
  o.base_url.clear();
  setenv("ALPHA_FORGE_BINANCE_BASE_URL", "http://127.0.0.1:4", 1);
  e = resolve_live_endpoints(o);
  EXPECT_EQ(e.rest_url, "http://127.0.0.1:3");  // the endpoint's own variable beats the base variable
  EXPECT_EQ(e.ws_url, "ws://127.0.0.1:4/stream");
  EXPECT_EQ(e.vision_url, "http://127.0.0.1:4");
  unsetenv("ALPHA_FORGE_BINANCE_REST_URL");
  unsetenv("ALPHA_FORGE_BINANCE_BASE_URL");
}

}  // namespace
}  // namespace af::binance
