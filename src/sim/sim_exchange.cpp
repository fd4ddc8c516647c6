#include <utility>  // before asio's awaitable (Boost 1.74)

#include "sim/sim_exchange.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "sim/exchange_impl.hpp"
#include "sim/test_certs.hpp"
#include "vision/vision_layout.hpp"

namespace af::sim {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = ssl::stream<beast::tcp_stream>;

std::shared_ptr<spdlog::logger> log() { return af::logger("sim"); }

void close_lowest(beast::tcp_stream& s) {
  beast::error_code ec;
  s.socket().shutdown(tcp::socket::shutdown_both, ec);
  s.socket().close(ec);
}

template <class Stream>
beast::tcp_stream& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

}  // namespace

bool WsConn::subscribed(const std::string& s) const {
  return std::find(streams.begin(), streams.end(), s) != streams.end();
}

void WsConn::push(OutItem item) {
  if (dead) return;
  out.push_back(std::move(item));
  if (wake) wake->cancel();
}

std::string SimStats::json() const {
  nlohmann::json j = {{"ws_connections", ws_connections},
                      {"ws_open", ws_open},
                      {"ws_frames", ws_frames},
                      {"ws_pings", ws_pings},
                      {"ws_pongs", ws_pongs},
                      {"ws_refused_stream_limit", ws_refused_stream_limit},
                      {"ws_pong_timeouts", ws_pong_timeouts},
                      {"ws_age_cuts", ws_age_cuts},
                      {"rest_requests", rest_requests},
                      {"archive_requests", archive_requests},
                      {"symbols_requested", symbols_requested},
                      {"faults",
                       {{"disconnect", disconnects},
                        {"stall", stalls},
                        {"duplicate", duplicates},
                        {"late_close", late_closes},
                        {"missing_close", missing_closes},
                        {"reorder", reorders},
                        {"rest_429", rest_429},
                        {"rest_418", rest_418},
                        {"corrupt_archive", corrupt_archives},
                        {"huge_zip", huge_zips},
                        {"stall_archive", stalled_archives}}}};
  return j.dump();
}

SimExchange::Impl::Impl(SimExchangeOptions o) : options(std::move(o)) {}

Status SimExchange::Impl::start(uint16_t listen_port) {
  if (running) return make_error("SimExchange::start: already running");
  if (!(options.speed > 0)) return make_error(fmt::format("sim-exchange: --speed must be > 0 (got {})", options.speed));
  if (options.stream_limit < 1) return make_error("sim-exchange: stream limit must be >= 1");
  const auto iv = parse_interval(options.interval);
  if (!iv) return make_error("sim-exchange: unknown interval '" + options.interval + "'");

  // Market data and the default start.
  int64_t start = 0;
  if (!options.data_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.data_dir, ec)) {
      return make_error("sim-exchange: --data " + options.data_dir + ": not a directory");
    }
    futures_ = std::make_unique<MarketData>(vision::VisionMarket::kFuturesUm, options.data_dir);
    spot_ = std::make_unique<MarketData>(vision::VisionMarket::kSpot, options.data_dir);
    if (futures_->symbols().empty() && spot_->symbols().empty()) {
      return make_error("sim-exchange: --data " + options.data_dir + ": no kline folders under data/futures/um or data/spot");
    }
    // Default start: 30 days after the mirror's first bar, so that REST has a
    // month of history to backfill from.
    std::optional<int64_t> first;
    for (MarketData* md : {futures_.get(), spot_.get()}) {
      for (const auto& s : md->symbols()) {
        // Any interval the mirror holds: the configured one first.
        std::vector<int64_t> probes{*iv};
        for (auto name : binance_interval_names()) {
          if (auto p = parse_interval(name)) probes.push_back(*p);
        }
        for (int64_t probe : probes) {
          auto e = md->earliest(s, probe);
          if (e) {
            first = first ? std::min(*first, *e) : *e;
            break;
          }
        }
      }
    }
    if (!first) return make_error("sim-exchange: --data " + options.data_dir + ": no readable kline file");
    start = options.start_ms.value_or(*first + 30 * kDayMs);
  } else {
    if (options.symbols.empty()) return make_error("sim-exchange: no symbols for the generator");
    start = options.start_ms.value_or(bucket_start(now_ms(), *iv));
    const int64_t earliest = start - options.generator_history_days * kDayMs;
    futures_ = std::make_unique<MarketData>(vision::VisionMarket::kFuturesUm, options.symbols, options.seed, earliest);
    spot_ = std::make_unique<MarketData>(vision::VisionMarket::kSpot, options.symbols, options.seed, earliest);
  }

  static std::atomic<int> instance{0};
  scratch_dir = (std::filesystem::temp_directory_path() /
                 fmt::format("af_sim_{}_{}", static_cast<long>(::getpid()), instance++))
                    .string();

  ioc = std::make_unique<net::io_context>(1);
  if (!options.tls_cert_dir.empty()) {
    auto files = generate_test_certs(options.tls_cert_dir);
    if (!files) return files.error();
    ca_file = files->ca_cert;
    tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    beast::error_code ec;
    tls->use_certificate_chain_file(files->server_cert, ec);
    if (!ec) tls->use_private_key_file(files->server_key, ssl::context::pem, ec);
    if (ec) return make_error(options.tls_cert_dir + ": cannot load the generated certificate: " + ec.message());
  }

  beast::error_code ec;
  const auto address = net::ip::make_address(options.bind_address, ec);
  if (ec) return make_error("sim-exchange: bad bind address '" + options.bind_address + "'");
  acceptor = std::make_unique<tcp::acceptor>(*ioc);
  const tcp::endpoint ep(address, listen_port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.reset();
    ioc.reset();
    return make_error(fmt::format("sim-exchange: cannot listen on {}:{}: {}", options.bind_address, listen_port,
                                  ec.message()));
  }
  port = acceptor->local_endpoint().port();

  rest_rng = FaultRng(options.faults.seed, 1);
  archive_rng = FaultRng(options.faults.seed, 2);
  stall_rng = FaultRng(options.faults.seed, 3);
  clock = SimClock(start, options.speed);
  tick_timer = std::make_unique<net::steady_timer>(*ioc);
  net::co_spawn(*ioc, accept_loop(), net::detached);
  net::co_spawn(*ioc, tick_loop(), net::detached);
  running = true;
  thread = std::thread([this] {
    try {
      ioc->run();
    } catch (const std::exception& e) {
      log()->error("event=io_thread_exception what={}", e.what());
    } catch (...) {
      log()->error("event=io_thread_exception what=unknown");
    }
  });
  log()->info("event=listening port={} tls={} sim_start={} speed={} faults={} source={}", port.load(),
              tls ? "yes" : "no", format_iso8601(start), options.speed, options.faults.text(),
              options.data_dir.empty() ? "generator" : options.data_dir);
  return {};
}

void SimExchange::Impl::stop() {
  if (!running) return;
  net::post(*ioc, [this] {
    stopping = true;
    beast::error_code ec;
    acceptor->close(ec);
    tick_timer->cancel();
    for (auto& [id, c] : conns) {
      if (c->kill) c->kill();
      c->dead = true;
      if (c->wake) c->wake->cancel();
    }
    ioc->stop();
  });
  thread.join();
  // Destroy what refers to the io_context, then the context (and with it the
  // suspended coroutines), then the connections they shared.
  tick_timer.reset();
  acceptor.reset();
  for (auto& [id, c] : conns) c->wake.reset();
  ioc.reset();
  conns.clear();
  streams.clear();
  std::error_code fec;
  std::filesystem::remove_all(scratch_dir, fec);
  running = false;
  log()->info("event=stopped");
}

net::awaitable<void> SimExchange::Impl::accept_loop() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (stopping || ec == net::error::operation_aborted) co_return;
      continue;
    }
    net::co_spawn(*ioc, session(std::move(socket)), net::detached);
  }
}

net::awaitable<void> SimExchange::Impl::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  try {
    if (tls) {
      stream.expires_after(std::chrono::seconds(10));
      const bool is_tls = co_await beast::async_detect_ssl(stream, buffer, net::use_awaitable);
      if (is_tls) {
        TlsStream tls_stream(std::move(stream), *tls);
        const size_t used =
            co_await tls_stream.async_handshake(ssl::stream_base::server, buffer.data(), net::use_awaitable);
        buffer.consume(used);
        co_await http_session(std::move(tls_stream), std::move(buffer));
        co_return;
      }
    }
    co_await http_session(std::move(stream), std::move(buffer));
  } catch (const std::exception& e) {
    log()->debug("event=session_end reason=\"{}\"", e.what());
  }
}

template <class Stream>
net::awaitable<void> SimExchange::Impl::http_session(Stream stream, beast::flat_buffer buffer) {
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(256 * 1024);  // 1024 streams in a URL need ~20 KiB
    parser.body_limit(64 * 1024);
    lowest(stream).expires_after(std::chrono::seconds(120));
    beast::error_code ec;
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
    HttpRequest req = parser.release();
    if (websocket::is_upgrade(req)) {
      auto route = parse_ws_route(std::string(req.target()));
      if (route) {
        lowest(stream).expires_never();
        co_await ws_session(std::move(stream), std::move(req), std::move(*route));
        co_return;
      }
    }
    if (stall_archive(req)) {
      // The stall_archive fault: no answer; the connection stays open until the
      // client gives up or the exchange stops.
      lowest(stream).expires_never();
      char ignored = 0;
      co_await net::async_read(stream, net::buffer(&ignored, 1), net::redirect_error(net::use_awaitable, ec));
      break;
    }
    HttpResponse res = handle_http(req);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  close_lowest(lowest(stream));
}

template <class Stream>
net::awaitable<void> SimExchange::Impl::ws_session(Stream stream, HttpRequest req, WsRoute route) {
  using Ws = websocket::stream<Stream>;
  auto ws = std::make_shared<Ws>(std::move(stream));
  ws->set_option(websocket::stream_base::timeout{std::chrono::seconds(10), websocket::stream_base::none(), false});
  ws->read_message_max(1 << 20);
  beast::error_code ec;
  co_await ws->async_accept(req, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return;

  auto c = std::make_shared<WsConn>();
  c->id = next_conn_id++;
  c->route = route;
  c->rng = FaultRng(options.faults.seed, 1000 + c->id);
  c->wake = std::make_unique<net::steady_timer>(*ioc);
  c->created_wall = c->last_ping_wall = clock.wall_elapsed_ms();
  std::weak_ptr<Ws> weak = ws;
  c->kill = [weak] {
    if (auto s = weak.lock()) close_lowest(lowest(*s));
  };
  bump(&SimStats::ws_connections);
  if (static_cast<int>(route.streams.size()) > options.stream_limit) {
    // Binance refuses a connection over the stream limit with a policy close.
    bump(&SimStats::ws_refused_stream_limit);
    co_await ws->async_close(websocket::close_reason(websocket::close_code::policy_error, "Too many streams"),
                             net::redirect_error(net::use_awaitable, ec));
    co_return;
  }
  for (auto& s : route.streams) {
    if (!c->subscribed(s)) c->streams.push_back(s);
  }
  ws->control_callback([this, cw = std::weak_ptr<WsConn>(c)](websocket::frame_type kind, beast::string_view) {
    auto conn = cw.lock();
    if (!conn || kind != websocket::frame_type::pong) return;
    conn->awaiting_pong = false;
    bump(&SimStats::ws_pongs);
  });
  conns[c->id] = c;
  {
    std::lock_guard lock(stats_mu_);
    stats_.ws_open = conns.size();
  }

  // Writer: sends queued items in order; woken by WsConn::push.
  auto writer = [this](std::shared_ptr<Ws> s, std::shared_ptr<WsConn> conn) -> net::awaitable<void> {
    beast::error_code wec;
    while (!conn->dead) {
      if (conn->out.empty()) {
        conn->wake->expires_at(net::steady_timer::time_point::max());
        co_await conn->wake->async_wait(net::redirect_error(net::use_awaitable, wec));
        continue;
      }
      OutItem item = std::move(conn->out.front());
      conn->out.pop_front();
      switch (item.kind) {
        case OutItem::Kind::kText:
          s->text(true);
          co_await s->async_write(net::buffer(item.text), net::redirect_error(net::use_awaitable, wec));
          if (!wec) bump(&SimStats::ws_frames);
          break;
        case OutItem::Kind::kPing:
          co_await s->async_ping({}, net::redirect_error(net::use_awaitable, wec));
          if (!wec) bump(&SimStats::ws_pings);
          break;
        case OutItem::Kind::kClose:
          conn->closing = true;
          co_await s->async_close(websocket::close_reason(static_cast<websocket::close_code>(item.close_code), item.text),
                                  net::redirect_error(net::use_awaitable, wec));
          conn->dead = true;
          break;
        case OutItem::Kind::kKill:
          close_lowest(lowest(*s));
          conn->dead = true;
          break;
      }
      if (wec) conn->dead = true;
    }
  };
  net::co_spawn(*ioc, writer(ws, c), net::detached);

  // Reader: subscriptions and control frames (pongs arrive through control_callback).
  for (;;) {
    beast::flat_buffer buf;
    co_await ws->async_read(buf, net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
    if (ws->got_text()) handle_ws_text(*c, beast::buffers_to_string(buf.data()));
  }
  c->dead = true;
  if (c->wake) c->wake->cancel();
  conns.erase(c->id);
  std::lock_guard lock(stats_mu_);
  stats_.ws_open = conns.size();
}

void SimExchange::Impl::handle_ws_text(WsConn& c, const std::string& text) {
  nlohmann::json reply;
  auto req = nlohmann::json::parse(text, nullptr, false);
  if (req.is_discarded() || !req.is_object()) {
    reply = {{"error", {{"code", 3}, {"msg", "Invalid JSON: expected value at line 1 column 1"}}}};
    c.push({OutItem::Kind::kText, reply.dump()});
    return;
  }
  reply["id"] = req.contains("id") ? req["id"] : nlohmann::json(nullptr);
  const std::string method = req.value("method", "");
  std::vector<std::string> params;
  if (req.contains("params") && req["params"].is_array()) {
    for (const auto& p : req["params"]) {
      if (p.is_string()) params.push_back(p.get<std::string>());
    }
  }
  if (method == "SUBSCRIBE") {
    size_t total = c.streams.size();
    for (const auto& p : params) total += c.subscribed(p) ? 0 : 1;
    if (static_cast<int>(total) > options.stream_limit) {
      bump(&SimStats::ws_refused_stream_limit);
      c.push({OutItem::Kind::kClose, "Too many streams", static_cast<uint16_t>(1008)});
      return;
    }
    for (const auto& p : params) {
      if (!c.subscribed(p)) c.streams.push_back(p);
    }
    reply["result"] = nullptr;
  } else if (method == "UNSUBSCRIBE") {
    for (const auto& p : params) std::erase(c.streams, p);
    reply["result"] = nullptr;
  } else if (method == "LIST_SUBSCRIPTIONS") {
    reply["result"] = c.streams;
  } else if (method == "SET_PROPERTY") {
    reply["result"] = nullptr;
  } else if (method == "GET_PROPERTY") {
    reply["result"] = true;
  } else {
    reply = {{"error",
              {{"code", 2},
               {"msg", "Invalid request: unknown variant " + method +
                           ", expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY"}}},
             {"id", reply["id"]}};
  }
  // Binance writes "result" before "id".
  std::string out = reply.contains("error") ? reply.dump()
                                            : "{\"result\":" + reply["result"].dump() + ",\"id\":" + reply["id"].dump() + "}";
  c.push({OutItem::Kind::kText, std::move(out)});
}

// ---- SimExchange ----

SimExchange::SimExchange(SimExchangeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

SimExchange::~SimExchange() {
  if (impl_ && impl_->running) {
    log()->warn("event=destroyed_while_running note=\"call stop() first\"");
    impl_->stop();
  }
}

Status SimExchange::start(uint16_t port) { return impl_->start(port); }
void SimExchange::stop() { impl_->stop(); }
bool SimExchange::running() const { return impl_->running; }
uint16_t SimExchange::port() const { return impl_->port; }
int64_t SimExchange::sim_now_ms() const { return impl_->clock.now_ms(); }
int64_t SimExchange::sim_start_ms() const { return impl_->clock.start_ms(); }
std::string SimExchange::ca_file() const { return impl_->ca_file; }

SimStats SimExchange::stats() const {
  std::lock_guard lock(impl_->stats_mu_);
  return impl_->stats_;
}

}  // namespace af::sim
