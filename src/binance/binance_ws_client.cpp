#include "binance/binance_ws_client.hpp"

#include <utility>  // before awaitable.hpp (Boost 1.74)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <random>
#include <thread>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "net/http_url.hpp"
#include "net/proxy_tunnel.hpp"
#include "net/tls_context.hpp"

namespace af::binance {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<asio::ssl::stream<beast::tcp_stream>>;

const char* ws_event_name(WsEventKind k) {
  switch (k) {
    case WsEventKind::kConnected: return "connected";
    case WsEventKind::kReconnected: return "reconnected";
    case WsEventKind::kRotated: return "rotated";
    case WsEventKind::kDisconnected: return "disconnected";
    case WsEventKind::kFailed: return "failed";
  }
  return "?";
}

std::string kline_stream_name(const std::string& symbol, int64_t interval_ms) {
  std::string s;
  for (char c : symbol) s += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s + "@kline_" + interval_name(interval_ms);
}

namespace {

// The spawned close owns the stream (a parameter lives in the coroutine frame).
template <class Ws>
asio::awaitable<void> close_gracefully(std::shared_ptr<Ws> ws) {
  beast::error_code ec;
  co_await ws->async_close(websocket::close_code::normal, asio::redirect_error(asio::use_awaitable, ec));
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct BinanceWsClient::Impl {
  // One connection's worth of streams, and the state its supervisor and watchdog share
  // (both on the io thread).
  struct Slot {
    size_t index = 0;
    net::Url url;
    bool active = false;         // a connection is up and being read
    int64_t connected_at = 0;    // steady ms
    int64_t last_message = 0;    // steady ms
    int64_t next_rotation = 0;   // steady ms
    int64_t first_event = 0;     // exchange event times (E) seen on the current connection
    int64_t last_event = 0;
    bool rotating = false;
    bool stale = false;
    std::shared_ptr<void> successor;        // the rotation's new connection, once up
    std::function<void()> close_successor;  // closes the successor's socket (stop)
    std::function<void()> force_close;      // closes the current socket (watchdog, stop)
    std::function<void()> graceful_close;   // WebSocket close (rotation)
    std::unique_ptr<asio::steady_timer> backoff_timer;

    void take_successor() {
      successor.reset();
      close_successor = nullptr;
    }
    // Every socket and timer this slot holds, closed or cancelled (io thread).
    void close_all() {
      if (force_close) force_close();
      if (close_successor) close_successor();
      if (backoff_timer) backoff_timer->cancel();
    }
    // Drops every I/O object the slot holds: called once the io thread is joined,
    // while the io_context they belong to still exists.
    void release() {
      take_successor();
      force_close = nullptr;
      graceful_close = nullptr;
      backoff_timer.reset();
    }
  };

  // Declared first, so destroyed last: every socket and timer below (in the slots,
  // in a rotation's successor, in a suspended coroutine destroyed with the context)
  // belongs to it and must go before it does.
  asio::io_context ioc;
  BinanceWsOptions options;
  UpdateHandler on_update;
  EventHandler on_event;
  BinanceKlineParser parser;
  WsStats stats;
  std::vector<Slot> slots;
  std::shared_ptr<asio::ssl::context> tls;
  std::atomic<bool> stopping{false};
  std::atomic<int> running{0};
  std::mt19937_64 rng{std::random_device{}()};
  RateLimiter malformed_log{5, 60'000};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  bool started = false;

  Impl(BinanceWsOptions o, UpdateHandler u, EventHandler e)
      : options(std::move(o)), on_update(std::move(u)), on_event(std::move(e)), parser(options.universe) {}

  void emit(WsEventKind kind, size_t connection, std::string detail) {
    logger("sources.market")->info("ws {} connection={} detail={}", ws_event_name(kind), connection, detail);
    if (on_event) on_event(WsEvent{kind, connection, std::move(detail)});
  }

  const net::ProxyConfig& proxy_config() const {
    return options.proxy ? *options.proxy : net::process_proxy_config();
  }

  int64_t backoff_ms(int failures) {
    int64_t base = options.backoff_initial_ms;
    for (int i = 1; i < failures && base < options.backoff_max_ms; ++i) base *= 2;
    base = std::min(base, options.backoff_max_ms);
    // Full jitter over [base/2, base]: many clients cut at once do not come back at once.
    std::uniform_int_distribution<int64_t> jitter(base / 2, base);
    return jitter(rng);
  }

  template <class Ws>
  asio::awaitable<std::shared_ptr<Ws>> connect(Slot& slot, std::string& error);
  template <class Ws>
  asio::awaitable<std::string> read_loop(Ws& ws, Slot& slot);
  template <class Ws>
  asio::awaitable<void> supervise(Slot& slot);
  template <class Ws>
  asio::awaitable<void> rotate(Slot& slot);
  template <class Ws>
  asio::awaitable<void> watchdog(Slot& slot);

  // Returns the frame's exchange event time E when it is a kline consistent with
  // its own bar (0 otherwise): connection age is measured on it.
  int64_t handle_frame(std::string_view frame) {
    ++stats.messages;
    KlineUpdate u;
    const KlineError err = parser.parse(frame, now_ms(), u);
    if (err == KlineError::kNone) {
      ++stats.updates;
      if (on_update) on_update(u);
      const bool consistent = u.event_time >= u.bar.ts && u.event_time <= u.bar.ts + 2 * u.interval_ms;
      return consistent ? u.event_time : 0;
    }
    if (err == KlineError::kNotKline) {
      ++stats.other_messages;
      return 0;
    }
    ++stats.malformed;
    uint64_t suppressed = 0;
    if (malformed_log.allow(suppressed)) {
      logger("sources.market")
          ->warn("malformed kline frame error={} bytes={} head={} suppressed={}", kline_error_name(err), frame.size(),
                 std::string(frame.substr(0, 120)), suppressed);
    }
    return 0;
  }
};

template <class Ws>
asio::awaitable<std::shared_ptr<Ws>> BinanceWsClient::Impl::connect(Slot& slot, std::string& error) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  const auto timeout = std::chrono::milliseconds(options.connect_timeout_ms);
  const net::Url& url = slot.url;

  std::shared_ptr<Ws> ws;
  if constexpr (std::is_same_v<Ws, TlsWs>) {
    ws = std::make_shared<Ws>(ex, *tls);
    if (auto st = af::net::prepare_tls_stream(ws->next_layer(), url.host); !st) {
      error = st.error().message;
      co_return nullptr;
    }
  } else {
    ws = std::make_shared<Ws>(ex);
  }
  {
    // Directly or through the proxy's CONNECT tunnel (net/proxy_tunnel.hpp); TLS
    // below runs end to end with the destination either way.
    std::optional<Error> failure;
    co_await net::connect_stream(beast::get_lowest_layer(*ws), url, proxy_config(), timeout, failure);
    if (failure) {
      // A proxy's message names the destination itself.
      error = failure->message.rfind("proxy ", 0) == 0 ? failure->message
                                                        : url.host + ":" + url.port + ": " + failure->message;
      co_return nullptr;
    }
  }
  if constexpr (std::is_same_v<Ws, TlsWs>) {
    beast::get_lowest_layer(*ws).expires_after(timeout);
    co_await ws->next_layer().async_handshake(asio::ssl::stream_base::client, redirect);
    if (ec) {
      error = "TLS handshake with " + url.host + ": " + ec.message();
      co_return nullptr;
    }
  }
  // From here the WebSocket's own timeouts apply; staleness is the watchdog's job.
  beast::get_lowest_layer(*ws).expires_never();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = timeout;
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  ws->set_option(t);
  ws->set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "alpha_forge"); }));
  ws->read_message_max(BinanceKlineParser::kMaxFrameBytes * 4);
  const bool default_port = (url.port == "443" && url.tls()) || (url.port == "80" && !url.tls());
  // Named, not a temporary inside the co_await: g++ 12 mis-destroys such temporaries.
  const std::string host_header = default_port ? url.host : url.host + ":" + url.port;
  co_await ws->async_handshake(host_header, url.target, redirect);
  if (ec) {
    error = "WebSocket handshake with " + url.text() + ": " + ec.message();
    co_return nullptr;
  }
  co_return ws;
}

template <class Ws>
asio::awaitable<std::string> BinanceWsClient::Impl::read_loop(Ws& ws, Slot& slot) {
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);
  beast::flat_buffer buffer;
  while (true) {
    buffer.clear();
    co_await ws.async_read(buffer, redirect);
    if (ec) co_return ec.message();
    slot.last_message = steady_ms();
    const auto data = buffer.cdata();
    if (const int64_t e = handle_frame(std::string_view(static_cast<const char*>(data.data()), data.size())); e > 0) {
      if (slot.first_event == 0) slot.first_event = e;
      slot.last_event = std::max(slot.last_event, e);
      // Checked per frame, not per watchdog tick: on a fast simulated clock the hour
      // between the rotation and the cut can be a fraction of a wall second.
      if (slot.last_event - slot.first_event >= options.rotate_after_ms && !slot.rotating && !stopping) {
        slot.rotating = true;
        asio::co_spawn(co_await asio::this_coro::executor, rotate<Ws>(slot), asio::detached);
      }
    }
  }
}

template <class Ws>
asio::awaitable<void> BinanceWsClient::Impl::rotate(Slot& slot) {
  std::string error;
  auto fresh = co_await connect<Ws>(slot, error);
  if (!fresh || stopping) {
    slot.rotating = false;
    slot.next_rotation = steady_ms() + 60'000;  // try again in a minute; the 24 h cut is the fallback
    slot.first_event = slot.last_event;         // and not at once on the exchange's clock either
    if (!error.empty()) logger("sources.market")->warn("ws rotation connect failed connection={} error={}", slot.index, error);
    co_return;
  }
  // The new connection is up (and receiving): now end the old one. The old one's
  // peer may never answer the close; stop() then closes both sockets.
  slot.successor = fresh;
  slot.close_successor = [raw = fresh.get()] {
    beast::error_code ec;
    beast::get_lowest_layer(*raw).socket().close(ec);
  };
  if (slot.graceful_close) slot.graceful_close();
}

template <class Ws>
asio::awaitable<void> BinanceWsClient::Impl::watchdog(Slot& slot) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const int64_t tick = std::clamp<int64_t>(options.stale_after_ms / 4, 10, 1000);
  while (!stopping) {
    timer.expires_after(std::chrono::milliseconds(tick));
    beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping) break;
    if (!slot.active) continue;
    const int64_t now = steady_ms();
    if (now - slot.last_message > options.stale_after_ms && !slot.stale) {
      slot.stale = true;
      ++stats.stale_reconnects;
      logger("sources.market")->warn("ws stale connection={} silent_ms={}", slot.index, now - slot.last_message);
      if (slot.force_close) slot.force_close();
    } else if ((now >= slot.next_rotation || slot.last_event - slot.first_event >= options.rotate_after_ms) &&
               !slot.rotating) {
      // Due on the local clock, or on the exchange's (which runs faster when the
      // exchange is the simulated one at speed): Binance cuts at 24 h of its time.
      slot.rotating = true;
      asio::co_spawn(ex, rotate<Ws>(slot), asio::detached);
    }
  }
}

template <class Ws>
asio::awaitable<void> BinanceWsClient::Impl::supervise(Slot& slot) {
  auto ex = co_await asio::this_coro::executor;
  ++running;
  int failures = 0;
  bool ever_connected = false;
  std::shared_ptr<Ws> current;
  bool rotated = false;
  while (!stopping) {
    if (!current) {
      std::string error;
      current = co_await connect<Ws>(slot, error);
      if (stopping) break;
      if (!current) {
        ++failures;
        ++stats.connect_failures;
        const int64_t wait = backoff_ms(failures);
        logger("sources.market")
            ->warn("ws connect failed connection={} attempt={} retry_in_ms={} error={}", slot.index, failures, wait,
                   error);
        slot.backoff_timer = std::make_unique<asio::steady_timer>(ex, std::chrono::milliseconds(wait));
        beast::error_code ec;
        co_await slot.backoff_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      ++stats.connects;
      failures = 0;
    }
    Ws* raw = current.get();
    slot.force_close = [raw] {
      beast::error_code ec;
      beast::get_lowest_layer(*raw).socket().close(ec);
    };
    slot.graceful_close = [weak = std::weak_ptr<Ws>(current), ex] {
      if (auto ws = weak.lock()) asio::co_spawn(ex, close_gracefully(std::move(ws)), asio::detached);
    };
    const int64_t now = steady_ms();
    slot.active = true;
    slot.stale = false;
    slot.rotating = false;
    slot.take_successor();
    slot.connected_at = now;
    slot.last_message = now;
    slot.next_rotation = now + options.rotate_after_ms;
    slot.first_event = slot.last_event = 0;
    if (rotated) {
      ++stats.rotations;
      emit(WsEventKind::kRotated, slot.index, "");
    } else {
      emit(ever_connected ? WsEventKind::kReconnected : WsEventKind::kConnected, slot.index, slot.url.text());
    }
    ever_connected = true;
    rotated = false;

    const std::string why = co_await read_loop(*current, slot);
    slot.active = false;
    slot.force_close = nullptr;
    slot.graceful_close = nullptr;
    if (slot.successor && !stopping) {
      // Planned: carry on with the connection the rotation opened (the old one is
      // owned by its spawned close until that completes).
      current = std::static_pointer_cast<Ws>(slot.successor);
      slot.take_successor();
      rotated = true;
      continue;
    }
    current.reset();
    if (stopping) {
      slot.take_successor();
      break;
    }
    emit(WsEventKind::kDisconnected, slot.index, slot.stale ? "stale: " + why : why);
    ++failures;
    const int64_t wait = backoff_ms(failures);
    slot.backoff_timer = std::make_unique<asio::steady_timer>(ex, std::chrono::milliseconds(wait));
    beast::error_code ec;
    co_await slot.backoff_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  --running;
}

BinanceWsClient::BinanceWsClient(BinanceWsOptions options, UpdateHandler on_update, EventHandler on_event)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(on_update), std::move(on_event))) {}

BinanceWsClient::~BinanceWsClient() { stop(); }

std::vector<std::string> BinanceWsClient::connection_urls() const {
  std::vector<std::string> out;
  const auto& o = impl_->options;
  const size_t per = std::max<size_t>(1, o.max_streams_per_connection);
  for (size_t i = 0; i < o.streams.size(); i += per) {
    std::string url = o.base_url + "?streams=";
    for (size_t j = i; j < std::min(o.streams.size(), i + per); ++j) url += (j > i ? "/" : "") + o.streams[j];
    out.push_back(url);
  }
  return out;
}

const WsStats& BinanceWsClient::stats() const { return impl_->stats; }

Status BinanceWsClient::start() {
  Impl& im = *impl_;
  if (im.started) return make_error("BinanceWsClient: already started");
  if (im.options.streams.empty()) return make_error("BinanceWsClient: no streams");
  bool any_tls = false;
  for (const auto& text : connection_urls()) {
    auto url = net::parse_url(text);
    if (!url) return url.error();
    if (url->scheme != "ws" && url->scheme != "wss") return make_error("BinanceWsClient: not a ws(s) URL: " + text);
    any_tls = any_tls || url->tls();
    Impl::Slot slot;
    slot.index = im.slots.size();
    slot.url = *url;
    im.slots.push_back(std::move(slot));
  }
  if (any_tls) {
    auto ctx = af::net::make_tls_client_context(im.options.ca_file);
    if (!ctx) return ctx.error();
    im.tls = *ctx;
  }
  im.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(im.ioc.get_executor());
  for (auto& slot : im.slots) {
    if (slot.url.tls()) {
      asio::co_spawn(im.ioc, im.supervise<TlsWs>(slot), asio::detached);
      asio::co_spawn(im.ioc, im.watchdog<TlsWs>(slot), asio::detached);
    } else {
      asio::co_spawn(im.ioc, im.supervise<PlainWs>(slot), asio::detached);
      asio::co_spawn(im.ioc, im.watchdog<PlainWs>(slot), asio::detached);
    }
  }
  im.started = true;
  im.thread = std::thread([&im] {
    // The thread's top level: an exception ends the client through its failure
    // event (the owner's failure path), never std::terminate.
    std::string why;
    try {
      im.ioc.run();
      return;
    } catch (const std::exception& e) {
      why = e.what();
    } catch (...) {
      why = "unknown exception";
    }
    logger("sources.market")->error("ws io thread stopped error={}", why);
    if (im.on_event) im.on_event(WsEvent{WsEventKind::kFailed, 0, "WebSocket client stopped: " + why});
  });
  return {};
}

void BinanceWsClient::stop() {
  Impl& im = *impl_;
  if (!im.started || im.stopping.exchange(true)) return;
  asio::post(im.ioc, [&im] {
    for (auto& slot : im.slots) slot.close_all();
  });
  // Give the supervisors a moment to unwind, then stop whatever still waits.
  for (int i = 0; i < 200 && im.running.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  im.work.reset();
  im.ioc.stop();
  if (im.thread.joinable()) im.thread.join();
  // The io thread is gone: the slots' sockets and timers can go now, before the
  // io_context (a coroutine still suspended is destroyed with the context itself).
  for (auto& slot : im.slots) slot.release();
}

}  // namespace af::binance
