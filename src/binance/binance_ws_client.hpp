#pragma once
// BinanceWsClient: Binance combined kline streams over Beast WebSocket (ws:// plain,
// wss:// TLS with SNI and peer/host verification), on its own io thread.
//
// Streams are split across connections above `max_streams_per_connection`. Each
// connection has a supervisor: connect (a timeout on every step), read, and on any
// failure reconnect with exponential backoff plus jitter. A watchdog reconnects a
// connection silent for `stale_after_ms`, and rotates it before Binance's 24 h cut
// (the new connection is opened first, then the old one closed, so nothing is lost).
// Server pings are answered by Beast with a pong echoing the payload.
//
// Frames are parsed on the io thread (BinanceKlineParser); updates and connection
// events go to the handlers, called on the io thread (they must be quick: push to a
// queue). Malformed frames are counted and logged rate-limited. Owned by the live
// feed; start()/stop() from the owner's thread; the destructor stops. stop()
// closes every socket, a rotation's successor and a close still waiting for the
// peer's answer included, and releases them before the io_context goes.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "net/proxy_config.hpp"
#include "binance/binance_kline_parser.hpp"

namespace af::binance {

struct BinanceWsOptions {
  // Without the query: "wss://fstream.binance.com/market/stream" (futures, since 2026),
  // "wss://stream.binance.com:9443/stream" (spot). "?streams=a/b/c" is appended.
  std::string base_url;
  std::vector<std::string> streams;  // "btcusdt@kline_1m"
  std::vector<std::string> universe;  // symbols the parser accepts (BTCUSDT)
  size_t max_streams_per_connection = 200;
  int64_t connect_timeout_ms = 10'000;       // resolve, TCP, TLS, WebSocket handshake: each
  int64_t stale_after_ms = 30'000;           // no message for this long: reconnect
  int64_t rotate_after_ms = 23 * 3'600'000LL;  // before Binance's 24 h cut
  int64_t backoff_initial_ms = 250;
  int64_t backoff_max_ms = 30'000;
  std::string ca_file;  // empty: $SSL_CERT_FILE, else the system CAs
  // The proxy policy (net/proxy_config.hpp); nullopt: the process's.
  std::optional<net::ProxyConfig> proxy;
};

enum class WsEventKind : uint8_t {
  kConnected,     // first connection of a slot
  kReconnected,   // after a loss: updates may be missing since the loss
  kRotated,       // planned replacement, overlapping: nothing missing
  kDisconnected,  // a connection was lost (reconnect follows unless stopping)
  kFailed,        // the io thread ended on an exception: no more updates will come
};
const char* ws_event_name(WsEventKind k);

struct WsEvent {
  WsEventKind kind = WsEventKind::kConnected;
  size_t connection = 0;  // index of the connection (stream group)
  std::string detail;     // why a connection ended
};

struct WsStats {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> updates{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> other_messages{0};  // valid JSON, not a kline (subscription replies)
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> connect_failures{0};
  std::atomic<uint64_t> stale_reconnects{0};
  std::atomic<uint64_t> rotations{0};
};

class BinanceWsClient {
 public:
  using UpdateHandler = std::function<void(const KlineUpdate&)>;
  using EventHandler = std::function<void(const WsEvent&)>;

  BinanceWsClient(BinanceWsOptions options, UpdateHandler on_update, EventHandler on_event = {});
  ~BinanceWsClient();
  BinanceWsClient(const BinanceWsClient&) = delete;
  BinanceWsClient& operator=(const BinanceWsClient&) = delete;

  // Checks the URL and TLS set-up, then starts the io thread. Connection failures
  // are not errors here: they are retried and reported through the events.
  Status start();
  // Closes every connection and joins the io thread. Idempotent.
  void stop();

  // The URLs of the connections (one per stream group).
  std::vector<std::string> connection_urls() const;
  const WsStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "btcusdt@kline_1m" for BTCUSDT and 60000.
std::string kline_stream_name(const std::string& symbol, int64_t interval_ms);

}  // namespace af::binance
