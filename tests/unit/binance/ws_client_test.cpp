// BinanceWsClient against a Beast WebSocket server on loopback: delivery, pings
// answered with the same payload, stream splitting, reconnect, the stale watchdog,
// rotation (new first, then old closed), malformed frames, TLS.

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "loopback_server.hpp"
#include "market_test_util.hpp"
#include "binance/binance_ws_client.hpp"

namespace af::binance {
namespace {

constexpr int64_t kIv = 60'000;
constexpr int64_t kT0 = 1'700'000'040'000;

// Collects what the client hands over (on its io thread).
struct Sink {
  std::mutex mutex;
  std::vector<KlineUpdate> updates;
  std::vector<WsEvent> events;
  void update(const KlineUpdate& u) {
    std::lock_guard lock(mutex);
    updates.push_back(u);
  }
  void event(const WsEvent& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return updates.size();
  }
  int events_of(WsEventKind k) {
    std::lock_guard lock(mutex);
    int n = 0;
    for (const auto& e : events) n += e.kind == k;
    return n;
  }
};

template <class Pred>
bool wait_for(Pred pred, int ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

BinanceWsOptions options_for(const std::string& base, std::vector<std::string> universe) {
  BinanceWsOptions o;
  o.base_url = base;
  o.universe = universe;
  for (const auto& s : universe) o.streams.push_back(kline_stream_name(s, kIv));
  o.connect_timeout_ms = 2000;
  o.backoff_initial_ms = 10;
  o.backoff_max_ms = 50;
  return o;
}

void drain_until_closed(test::WsPeer& peer) {
  std::string ignored;
  while (peer.read(ignored)) {
  }
}

TEST(WsClientTest, DeliversUpdatesAndAnswersPingsWithThePayload) {
  const auto bars = test::synthetic_bars(kT0, kIv, 20, 3);
  std::mutex peers_mutex;
  test::WsPeer* server_peer = nullptr;
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    {
      std::lock_guard lock(peers_mutex);
      server_peer = &peer;
    }
    peer.ping("ping-payload-42");
    for (size_t i = 0; i < bars.size(); ++i) peer.send(test::kline_frame("BTCUSDT", "1m", kIv, bars[i], i % 2 == 1, bars[i].ts + 100));
    drain_until_closed(peer);
    std::lock_guard lock(peers_mutex);
    server_peer = nullptr;
  });
  Sink sink;
  auto o = options_for("ws://127.0.0.1:" + std::to_string(server.port()) + "/market/stream", {"BTCUSDT"});
  BinanceWsClient client(o, [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
  ASSERT_EQ(client.connection_urls(), std::vector<std::string>{o.base_url + "?streams=btcusdt@kline_1m"});
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(wait_for([&] { return sink.count() == bars.size(); }));
  // The pong carries the ping's payload (Beast answers control frames itself).
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(peers_mutex);
    return server_peer && !server_peer->pongs().empty();
  }));
  {
    std::lock_guard lock(peers_mutex);
    EXPECT_EQ(server_peer->pongs().front(), "ping-payload-42");
    EXPECT_EQ(server_peer->target, "/market/stream?streams=btcusdt@kline_1m");
  }
  client.stop();
  for (size_t i = 0; i < bars.size(); ++i) {
    EXPECT_TRUE(sink.updates[i].bar.same_values(bars[i])) << i;
    EXPECT_EQ(sink.updates[i].closed, i % 2 == 1);
    EXPECT_EQ(sink.updates[i].symbol, "BTCUSDT");
  }
  EXPECT_EQ(sink.events_of(WsEventKind::kConnected), 1);
  EXPECT_EQ(client.stats().updates.load(), bars.size());
}

TEST(WsClientTest, SplitsStreamsAcrossConnections) {
  std::mutex mutex;
  std::set<std::string> targets;
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    {
      std::lock_guard lock(mutex);
      targets.insert(peer.target);
    }
    drain_until_closed(peer);
  });
  Sink sink;
  auto o = options_for("ws://127.0.0.1:" + std::to_string(server.port()) + "/stream",
                       {"AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT"});
  o.max_streams_per_connection = 2;
  BinanceWsClient client(o, [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(wait_for([&] { return sink.events_of(WsEventKind::kConnected) == 3; }));
  client.stop();
  std::lock_guard lock(mutex);  // the server's sessions may still be ending
  EXPECT_EQ(targets, (std::set<std::string>{"/stream?streams=aaausdt@kline_1m/bbbusdt@kline_1m",
                                            "/stream?streams=cccusdt@kline_1m/dddusdt@kline_1m",
                                            "/stream?streams=eeeusdt@kline_1m"}));
}

TEST(WsClientTest, ReconnectsAfterTheServerDrops) {
  const auto bars = test::synthetic_bars(kT0, kIv, 10, 4);
  std::atomic<int> sessions{0};
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    const int n = ++sessions;
    // First session: 5 bars then the link dies; second: the other 5.
    for (int i = (n == 1 ? 0 : 5); i < (n == 1 ? 5 : 10); ++i) {
      peer.send(test::kline_frame("BTCUSDT", "1m", kIv, bars[i], true, bars[i].ts + kIv));
    }
    if (n == 1) return;  // returning closes the socket without a close frame
    drain_until_closed(peer);
  });
  Sink sink;
  BinanceWsClient client(options_for("ws://127.0.0.1:" + std::to_string(server.port()) + "/stream", {"BTCUSDT"}),
                         [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(wait_for([&] { return sink.count() == 10; }));
  client.stop();
  EXPECT_EQ(sink.events_of(WsEventKind::kConnected), 1);
  EXPECT_EQ(sink.events_of(WsEventKind::kDisconnected), 1);
  EXPECT_EQ(sink.events_of(WsEventKind::kReconnected), 1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sink.updates[i].bar.ts, bars[i].ts);
}

TEST(WsClientTest, StaleWatchdogReconnects) {
  const auto bars = test::synthetic_bars(kT0, kIv, 2, 5);
  std::atomic<int> sessions{0};
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    const int n = ++sessions;
    peer.send(test::kline_frame("BTCUSDT", "1m", kIv, bars[n == 1 ? 0 : 1], true, 0));
    drain_until_closed(peer);  // then silence, with the link up
  });
  Sink sink;
  auto o = options_for("ws://127.0.0.1:" + std::to_string(server.port()) + "/stream", {"BTCUSDT"});
  o.stale_after_ms = 200;
  BinanceWsClient client(o, [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(wait_for([&] { return sink.count() >= 2; }));
  client.stop();
  EXPECT_GE(client.stats().stale_reconnects.load(), 1u);
  EXPECT_GE(sink.events_of(WsEventKind::kReconnected), 1);
  EXPECT_EQ(sink.updates[1].bar.ts, bars[1].ts);
}

TEST(WsClientTest, RotatesNewConnectionFirstWithoutAGap) {
  std::atomic<int> sessions{0};
  std::atomic<bool> stop_sending{false};
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    const int n = ++sessions;
    const auto bars = test::synthetic_bars(kT0 + n * 1000 * kIv, kIv, 1, 6);
    std::thread reader([&peer] { drain_until_closed(peer); });
    while (!stop_sending && peer.send(test::kline_frame("BTCUSDT", "1m", kIv, bars[0], false, 0))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    reader.join();
  });
  Sink sink;
  auto o = options_for("ws://127.0.0.1:" + std::to_string(server.port()) + "/stream", {"BTCUSDT"});
  o.rotate_after_ms = 300;
  BinanceWsClient client(o, [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
  ASSERT_TRUE(client.start());
  auto distinct_bars = [&] {
    std::set<int64_t> seen;
    std::lock_guard lock(sink.mutex);
    for (const auto& u : sink.updates) seen.insert(u.bar.ts);
    return seen.size();
  };
  // Two rotations, and updates from the third connection (each session sends its own bar).
  ASSERT_TRUE(wait_for([&] { return sink.events_of(WsEventKind::kRotated) >= 2 && distinct_bars() >= 3; }));
  stop_sending = true;
  client.stop();
  EXPECT_EQ(sink.events_of(WsEventKind::kConnected), 1);
  EXPECT_EQ(sink.events_of(WsEventKind::kDisconnected), 0);
  EXPECT_EQ(sink.events_of(WsEventKind::kReconnected), 0);
  EXPECT_GE(client.stats().rotations.load(), 2u);
}

// Stop while a rotation waits for the old connection's close: the old peer never
// answers the close, so the successor is up but not yet taken over. stop() must
// close the successor too (it used to outlive the client's io_context: a segfault
// when the client was destroyed) and return promptly.
TEST(WsClientTest, StopDuringARotationWhoseOldPeerNeverAnswersTheClose) {
  std::atomic<int> sessions{0};
  std::atomic<bool> successor_closed{false};
  std::atomic<bool> done{false};
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    const int n = ++sessions;
    const auto bars = test::synthetic_bars(kT0 + n * 1000 * kIv, kIv, 1, 9);
    if (n == 1) {
      // Sends and never reads: a close frame from the client is never answered.
      while (!done && peer.send(test::kline_frame("BTCUSDT", "1m", kIv, bars[0], false, 0))) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return;
    }
    std::thread reader([&] {
      drain_until_closed(peer);
      successor_closed = true;
    });
    while (!done && peer.send(test::kline_frame("BTCUSDT", "1m", kIv, bars[0], false, 0))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    reader.join();
  });
  Sink sink;
  auto o = options_for("ws://127.0.0.1:" + std::to_string(server.port()) + "/stream", {"BTCUSDT"});
  o.rotate_after_ms = 300;
  o.connect_timeout_ms = 20'000;  // also the close handshake's limit: the close stays pending
  {
    BinanceWsClient client(o, [&](const KlineUpdate& u) { sink.update(u); },
                           [&](const WsEvent& e) { sink.event(e); });
    ASSERT_TRUE(client.start());
    ASSERT_TRUE(wait_for([&] { return sessions.load() >= 2; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(sink.events_of(WsEventKind::kRotated), 0) << "the old connection's close must still be pending";
    const auto stop_at = std::chrono::steady_clock::now();
    client.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - stop_at, std::chrono::seconds(3));
    EXPECT_TRUE(wait_for([&] { return successor_closed.load(); }, 2000))
        << "stop() left the rotation's successor connection open";
  }  // destroying the client must not touch a destroyed io_context
  done = true;
  server.stop();
}

TEST(WsClientTest, MalformedFramesAreCountedNotFatal) {
  const auto bars = test::synthetic_bars(kT0, kIv, 1, 7);
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    peer.send("not json at all");
    peer.send("{\"result\":null,\"id\":1}");
    peer.send(test::kline_frame("XRPUSDT", "1m", kIv, bars[0], true, 0));  // outside the universe
    peer.send(test::kline_frame("BTCUSDT", "1m", kIv, bars[0], true, 0));
    drain_until_closed(peer);
  });
  Sink sink;
  BinanceWsClient client(options_for("ws://127.0.0.1:" + std::to_string(server.port()) + "/stream", {"BTCUSDT"}),
                         [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(wait_for([&] { return sink.count() == 1; }));
  client.stop();
  EXPECT_EQ(client.stats().malformed.load(), 2u);
  EXPECT_EQ(client.stats().other_messages.load(), 1u);
  EXPECT_EQ(sink.events_of(WsEventKind::kDisconnected), 0);
}

TEST(WsClientTest, TlsVerifiedAndWrongHostRefused) {
  test::TempDir dir;
  std::string ca_file;
  auto tls = test::make_test_tls(dir.str(), ca_file);
  if (!tls) GTEST_SKIP() << "openssl tool not available";
  const auto bars = test::synthetic_bars(kT0, kIv, 3, 8);
  test::LoopbackServer server(nullptr, [&](test::WsPeer& peer) {
    for (const auto& b : bars) peer.send(test::kline_frame("BTCUSDT", "1m", kIv, b, true, 0));
    drain_until_closed(peer);
  }, tls);
  {
    Sink sink;
    auto o = options_for("wss://localhost:" + std::to_string(server.port()) + "/stream", {"BTCUSDT"});
    o.ca_file = ca_file;
    BinanceWsClient client(o, [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
    ASSERT_TRUE(client.start());
    ASSERT_TRUE(wait_for([&] { return sink.count() == 3; }));
    client.stop();
  }
  {
    Sink sink;
    auto o = options_for("wss://127.0.0.1:" + std::to_string(server.port()) + "/stream", {"BTCUSDT"});
    o.ca_file = ca_file;
    BinanceWsClient client(o, [&](const KlineUpdate& u) { sink.update(u); }, [&](const WsEvent& e) { sink.event(e); });
    ASSERT_TRUE(client.start());
    ASSERT_TRUE(wait_for([&] { return client.stats().connect_failures.load() >= 2; }));
    client.stop();
    EXPECT_EQ(sink.count(), 0u);
    EXPECT_EQ(sink.events_of(WsEventKind::kConnected), 0);
  }
}

}  // namespace
}  // namespace af::binance
