#pragma once
// SimExchange::Impl: the exchange's state, private to src/sim. Everything below
// `ioc` is touched only by the io thread (the single thread that runs `ioc`),
// except `stats_` (mutex) and the immutable clock / port.

#include <utility>  // before asio's awaitable (Boost 1.74)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/bar.hpp"
#include "sim/fault_spec.hpp"
#include "sim/market_data.hpp"
#include "sim/sim_clock.hpp"
#include "sim/sim_exchange.hpp"

namespace af::sim {

namespace net = boost::asio;
namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

enum class Market { kFutures = 0, kSpot = 1 };

// What a WebSocket route carries.
struct WsRoute {
  Market market = Market::kFutures;
  bool raw = false;            // /ws: raw event frames; /stream: combined frames
  bool silent_klines = false;  // futures bare route in strict mode: acknowledged, never sent
  std::vector<std::string> streams;
};

// One message the writer sends, in order.
struct OutItem {
  enum class Kind { kText, kPing, kClose, kKill } kind = Kind::kText;
  std::string text;  // text frame, or the close reason
  uint16_t close_code = 1000;
};

// A frame a fault holds back until another frame goes out.
struct HeldFrame {
  std::string stream;
  std::string text;
  bool after_same_stream = true;  // release after the next frame of the same stream (else: of another stream)
};

// One WebSocket connection's publishing state; the session's coroutines own the
// socket, this object is shared with the feed. io thread only.
struct WsConn {
  uint64_t id = 0;
  WsRoute route;
  std::vector<std::string> streams;  // subscribed stream names, in order
  std::deque<OutItem> out;
  std::unique_ptr<net::steady_timer> wake;  // cancelled to wake the writer
  FaultRng rng{1, 0};
  bool stalled = false;
  bool closing = false;
  bool dead = false;
  std::vector<HeldFrame> held;
  double created_wall = 0, last_ping_wall = 0, ping_sent_wall = 0;
  bool awaiting_pong = false;
  std::function<void()> kill;  // closes the TCP socket at once

  bool subscribed(const std::string& s) const;
  void push(OutItem item);
};

// A stream being published (at least one subscriber).
struct StreamState {
  Market market = Market::kFutures;
  std::string name;  // "btcusdt@kline_1m"
  std::string symbol;  // "BTCUSDT"
  std::string interval;
  int64_t interval_ms = 0;
  int64_t bar_ts = 0;  // open time of the bar being published
  int step = 1;        // next event of that bar: 1..K updates, K+1 the close
  int64_t next_trade_id = 0;
  bool started = false;
};

struct PublishedEvent {
  int64_t event_time = 0;
  const StreamState* stream = nullptr;
  std::string event_json;
  std::string frame;  // combined form
};

struct SimExchange::Impl {
  explicit Impl(SimExchangeOptions o);

  // lifecycle (sim_exchange.cpp)
  Status start(uint16_t port);
  void stop();
  net::awaitable<void> accept_loop();
  net::awaitable<void> session(net::ip::tcp::socket socket);
  template <class Stream>
  net::awaitable<void> http_session(Stream stream, boost::beast::flat_buffer buffer);
  template <class Stream>
  net::awaitable<void> ws_session(Stream stream, HttpRequest req, WsRoute route);
  void handle_ws_text(WsConn& c, const std::string& text);

  // REST and archive (rest_api.cpp)
  HttpResponse handle_http(const HttpRequest& req);
  HttpResponse klines(const HttpRequest& req, Market market, const std::map<std::string, std::string>& q);
  HttpResponse archive(const HttpRequest& req, const std::string& path);
  // The stall_archive fault's decision for a request (an archive .zip download).
  bool stall_archive(const HttpRequest& req);
  // The huge_zip fault's decision for an archive file ("SYM-INT-DATE.zip").
  bool huge_zip_file(const std::string& file) const;
  // What the huge_zip fault serves: a header line, declared as 1 PiB.
  static constexpr uint64_t kHugeZipBytes = 1ULL << 50;
  static constexpr const char* kCraftedCsv =
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
      "taker_buy_quote_volume,ignore\n";
  std::optional<WsRoute> parse_ws_route(const std::string& target) const;

  // kline feed (kline_feed.cpp)
  net::awaitable<void> tick_loop();
  void tick();
  void offer(WsConn& c, const PublishedEvent& ev);
  void send_frame(WsConn& c, const std::string& stream, std::string text);
  int64_t event_time(const StreamState& s, int step) const;
  MarketData& data(Market m) { return m == Market::kFutures ? *futures_ : *spot_; }

  void note_symbol(const std::string& symbol) {
    std::lock_guard lock(stats_mu_);
    stats_.symbols_requested.insert(symbol);
  }
  template <class F>
  void bump(F field) {
    std::lock_guard lock(stats_mu_);
    ++(stats_.*field);
  }

  SimExchangeOptions options;
  SimClock clock;
  std::atomic<uint16_t> port{0};
  std::atomic<bool> running{false};
  mutable std::mutex stats_mu_;
  SimStats stats_;
  std::string ca_file;
  std::string scratch_dir;

  std::unique_ptr<net::io_context> ioc;
  std::unique_ptr<net::ssl::context> tls;
  std::unique_ptr<net::ip::tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> tick_timer;
  std::thread thread;
  bool stopping = false;

  std::unique_ptr<MarketData> futures_, spot_;
  std::map<uint64_t, std::shared_ptr<WsConn>> conns;
  uint64_t next_conn_id = 1;
  std::map<std::string, StreamState> streams;  // key: "<market>:<name>"

  struct Weight {
    int64_t window = -1;
    int used = 0;
  };
  Weight weight[2];
  double ban_until_wall = -1;
  FaultRng rest_rng{1, 1};
  FaultRng archive_rng{1, 2};
  FaultRng stall_rng{1, 3};  // stall_archive, apart so that it shifts no other decision
};

// Query string into a map (no percent-decoding beyond '%2F'-free Binance params).
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace af::sim
