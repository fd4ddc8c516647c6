// SimExchange on loopback, checked by a minimal Beast client written here.
#include <utility>  // before asio's awaitable (Boost 1.74)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stop_token>
#include <thread>
#include <unistd.h>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "sim/sim_exchange.hpp"
#include "net/http_client.hpp"
#include "synthetic/synthetic_market.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_layout.hpp"
#include "vision/vision_source.hpp"

namespace af::sim {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

const int64_t kStart = *parse_iso8601("2024-03-10T12:00:30Z");
constexpr uint64_t kSeed = 7;

SimExchangeOptions generator_options(double speed, int64_t start = kStart) {
  SimExchangeOptions o;
  o.symbols = {"BTCUSDT", "ETHUSDT"};
  o.seed = kSeed;
  o.start_ms = start;
  o.speed = speed;
  return o;
}

// Reference bars straight from the generator: one calendar month from its first day
// (the exchange generates per month).
std::vector<Bar> reference(size_t symbol_index, int64_t from, int64_t to) {
  static std::map<std::pair<size_t, int64_t>, std::vector<Bar>> months;  // memo: a month takes a while
  const int64_t month = vision::VisionPeriod::month_of(from).start_ms();
  auto& all = months[{symbol_index, month}];
  if (all.empty()) {
    synthetic::SyntheticMarket m({"BTCUSDT", "ETHUSDT"}, kSeed);
    all = m.bars(symbol_index, kMinuteMs, month, vision::VisionPeriod::month_of(from).end_ms());
  }
  std::vector<Bar> bars;
  for (const Bar& b : all) {
    if (b.ts >= from && b.ts < to) bars.push_back(b);
  }
  return bars;
}

std::string temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("af_sim_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

template <class F>
void run_coro(F make) {
  net::io_context ioc;
  std::exception_ptr error;
  net::co_spawn(ioc, make(), [&](std::exception_ptr e) { error = e; });
  ioc.run();
  if (error) std::rethrow_exception(error);
}

struct Reply {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  std::string error;  // transport / TLS error
};

template <class Stream>
net::awaitable<void> exchange_request(Stream& s, const std::string& target, Reply& r) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  co_await http::async_write(s, req, net::use_awaitable);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  co_await http::async_read(s, buf, parser, net::use_awaitable);
  auto res = parser.release();
  r.status = res.result_int();
  r.body = res.body();
  for (const auto& f : res) r.headers[std::string(f.name_string())] = std::string(f.value());
}

// GET over plain HTTP, or HTTPS verified against `ca` for `host` when ca is set.
Reply http_get(uint16_t port, const std::string& target, const std::string& ca = "",
               const std::string& host = "localhost") {
  Reply r;
  try {
    run_coro([&]() -> net::awaitable<void> {
      beast::tcp_stream s(co_await net::this_coro::executor);
      s.expires_after(10s);
      co_await s.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), net::use_awaitable);
      if (ca.empty()) {
        co_await exchange_request(s, target, r);
        co_return;
      }
      ssl::context ctx(ssl::context::tls_client);
      ctx.load_verify_file(ca);
      ssl::stream<beast::tcp_stream> ts(std::move(s), ctx);
      ts.set_verify_mode(ssl::verify_peer);
      ts.set_verify_callback(ssl::host_name_verification(host));
      SSL_set_tlsext_host_name(ts.native_handle(), host.c_str());
      co_await ts.async_handshake(ssl::stream_base::client, net::use_awaitable);
      co_await exchange_request(ts, target, r);
    });
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

struct WsCapture {
  std::vector<std::string> texts;
  int pings = 0;
  bool server_closed = false;  // a close frame or a dropped socket ended the read loop
  bool idle_timeout = false;   // nothing arrived for 1.5 s
  uint16_t close_code = 0;
  std::string error;
};

// Connects to `target`, sends `send`, then reads text frames for `duration`
// (or until `max_texts`); answers pings (Beast does) and counts them.
WsCapture ws_capture(uint16_t port, const std::string& target, std::chrono::milliseconds duration,
                     std::vector<std::string> send = {}, size_t max_texts = SIZE_MAX, const std::string& ca = "") {
  WsCapture cap;
  try {
    run_coro([&]() -> net::awaitable<void> {
      auto ex = co_await net::this_coro::executor;
      beast::tcp_stream s(ex);
      s.expires_after(10s);
      co_await s.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), net::use_awaitable);
      auto session = [&](auto& ws) -> net::awaitable<void> {
        beast::get_lowest_layer(ws).expires_never();
        ws.set_option(websocket::stream_base::timeout{5s, 1500ms, false});
        ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
          if (kind == websocket::frame_type::ping) ++cap.pings;
        });
        co_await ws.async_handshake("localhost", target, net::use_awaitable);
        for (const auto& m : send) co_await ws.async_write(net::buffer(m), net::use_awaitable);
        const auto deadline = std::chrono::steady_clock::now() + duration;
        while (std::chrono::steady_clock::now() < deadline && cap.texts.size() < max_texts) {
          beast::flat_buffer buf;
          beast::error_code ec;
          co_await ws.async_read(buf, net::redirect_error(net::use_awaitable, ec));
          if (ec == beast::error::timeout) {
            cap.idle_timeout = true;
            break;
          }
          if (ec) {
            cap.server_closed = true;
            cap.close_code = ws.reason().code;
            cap.error = ec.message();
            co_return;
          }
          cap.texts.push_back(beast::buffers_to_string(buf.data()));
        }
        if (cap.idle_timeout) co_return;
        beast::error_code ec;
        co_await ws.async_close(websocket::close_code::normal, net::redirect_error(net::use_awaitable, ec));
      };
      if (ca.empty()) {
        websocket::stream<beast::tcp_stream> ws(std::move(s));
        co_await session(ws);
      } else {
        ssl::context ctx(ssl::context::tls_client);
        ctx.load_verify_file(ca);
        websocket::stream<ssl::stream<beast::tcp_stream>> ws(std::move(s), ctx);
        ws.next_layer().set_verify_mode(ssl::verify_peer);
        ws.next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
        SSL_set_tlsext_host_name(ws.next_layer().native_handle(), "localhost");
        co_await ws.next_layer().async_handshake(ssl::stream_base::client, net::use_awaitable);
        co_await session(ws);
      }
    });
  } catch (const std::exception& e) {
    cap.error = e.what();
  }
  return cap;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs an exchange for one test; stop() is explicit in TearDown.
class SimExchangeTest : public ::testing::Test {
 protected:
  void start(SimExchangeOptions o) {
    ex_ = std::make_unique<SimExchange>(std::move(o));
    auto st = ex_->start(0);
    ASSERT_TRUE(st) << st.error().message;
    ASSERT_NE(ex_->port(), 0);
  }
  void TearDown() override {
    if (ex_) ex_->stop();
  }
  uint16_t port() const { return ex_->port(); }
  std::unique_ptr<SimExchange> ex_;
};

// A REST kline row: [t,"o","h","l","c","v",T,"q",n,"V","Q","0"].
void expect_row_shape(const json& row, int64_t interval_ms) {
  ASSERT_TRUE(row.is_array());
  ASSERT_EQ(row.size(), 12u);
  EXPECT_TRUE(row[0].is_number_integer());
  for (int i : {1, 2, 3, 4, 5, 7, 9, 10, 11}) EXPECT_TRUE(row[i].is_string()) << i;
  EXPECT_TRUE(row[6].is_number_integer());
  EXPECT_TRUE(row[8].is_number_integer());
  EXPECT_EQ(row[6].get<int64_t>(), row[0].get<int64_t>() + interval_ms - 1);
  EXPECT_EQ(row[11], "0");
}

double num(const json& v) { return std::stod(v.get<std::string>()); }

TEST_F(SimExchangeTest, RestKlinesFormatOpenBarAndWeight) {
  start(generator_options(1.0));
  auto r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=5");
  ASSERT_EQ(r.status, 200u) << r.error << r.body;
  EXPECT_EQ(r.headers["X-MBX-USED-WEIGHT-1M"], "1");
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
  auto rows = json::parse(r.body);
  ASSERT_EQ(rows.size(), 5u);
  const int64_t open_ts = bucket_start(kStart, kMinuteMs);
  EXPECT_EQ(rows[4][0].get<int64_t>(), open_ts);  // the still-open bar is last
  const auto ref = reference(0, open_ts - 4 * kMinuteMs, open_ts + kMinuteMs);
  ASSERT_EQ(ref.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    expect_row_shape(rows[i], kMinuteMs);
    EXPECT_EQ(rows[i][0].get<int64_t>(), ref[i].ts);
    if (i == 4) break;
    EXPECT_EQ(num(rows[i][1]), ref[i].open);
    EXPECT_EQ(num(rows[i][2]), ref[i].high);
    EXPECT_EQ(num(rows[i][3]), ref[i].low);
    EXPECT_EQ(num(rows[i][4]), ref[i].close);
    EXPECT_EQ(num(rows[i][5]), ref[i].volume);
    EXPECT_NEAR(num(rows[i][7]), ref[i].quote_volume, 1e-9 * ref[i].quote_volume + 1e-5);
    EXPECT_EQ(rows[i][8].get<int64_t>(), static_cast<int64_t>(ref[i].trades));
    EXPECT_EQ(num(rows[i][9]), ref[i].taker_buy_volume);
  }
  // The open bar: about half way through, inside the final bar.
  const Bar& fin = ref[4];
  EXPECT_EQ(num(rows[4][1]), fin.open);
  EXPECT_LE(num(rows[4][2]), fin.high);
  EXPECT_GE(num(rows[4][3]), fin.low);
  EXPECT_LT(num(rows[4][5]), fin.volume);
  EXPECT_GT(num(rows[4][5]), 0.3 * fin.volume);
  // Futures prices keep the tick's decimals: "…\.\d+" with a fixed count on every row.
  const std::string o = rows[0][1];
  const size_t decimals = o.size() - o.find('.') - 1;
  for (const auto& row : rows) {
    const std::string h = row[2];
    EXPECT_EQ(h.size() - h.find('.') - 1, decimals) << h;
  }

  // Weight by limit: 1000 -> 5, 1500 -> 10, per minute, cumulated.
  r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1000");
  EXPECT_EQ(r.headers["X-MBX-USED-WEIGHT-1M"], "6");
  r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500");
  EXPECT_EQ(r.headers["X-MBX-USED-WEIGHT-1M"], "16");
  EXPECT_EQ(json::parse(r.body).size(), 1500u);
}

TEST_F(SimExchangeTest, RestPaginationLimitsAndErrors) {
  start(generator_options(1.0));
  const int64_t from = *parse_iso8601("2024-03-08T00:00:00Z");
  auto r = http_get(port(), "/fapi/v1/klines?symbol=ETHUSDT&interval=1m&startTime=" + std::to_string(from) +
                                "&limit=2000");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto rows = json::parse(r.body);
  ASSERT_EQ(rows.size(), 1500u);  // futures cap
  for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(rows[i][0].get<int64_t>(), from + static_cast<int64_t>(i) * kMinuteMs);
  // The next page starts where this one ended.
  const int64_t next = rows.back()[0].get<int64_t>() + 1;
  r = http_get(port(), "/fapi/v1/klines?symbol=ETHUSDT&interval=1m&limit=3&startTime=" + std::to_string(next));
  rows = json::parse(r.body);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0].get<int64_t>(), from + 1500 * kMinuteMs);

  // endTime only: the last `limit` bars opening at or before endTime.
  const int64_t end = *parse_iso8601("2024-03-10T00:00:00Z");
  r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&limit=10&endTime=" + std::to_string(end));
  rows = json::parse(r.body);
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows.back()[0].get<int64_t>(), end);
  EXPECT_EQ(rows.front()[0].get<int64_t>(), end - 9 * kHourMs);
  expect_row_shape(rows[0], kHourMs);

  // A range entirely in the future of the simulated clock is empty.
  r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=" + std::to_string(kStart + kDayMs));
  EXPECT_EQ(r.body, "[]");

  // Spot: cap 1000, 8 decimals, weight 2.
  r = http_get(port(), "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1001&endTime=" + std::to_string(end));
  ASSERT_EQ(r.status, 200u);
  rows = json::parse(r.body);
  EXPECT_EQ(rows.size(), 1000u);
  const std::string o = rows[0][1];
  EXPECT_EQ(o.size() - o.find('.') - 1, 8u) << o;
  EXPECT_EQ(r.headers["X-MBX-USED-WEIGHT-1M"], "2");

  // Errors in Binance's form.
  r = http_get(port(), "/fapi/v1/klines?symbol=FOOUSDT&interval=1m");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body, R"({"code":-1121,"msg":"Invalid symbol."})");
  r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=7m");
  EXPECT_EQ(r.body, R"({"code":-1120,"msg":"Invalid interval."})");
  r = http_get(port(), "/fapi/v1/klines?interval=1m");
  EXPECT_EQ(r.body,
            R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."})");
  r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=20&endTime=10");
  EXPECT_EQ(r.body, R"({"code":-1023,"msg":"Start time is greater than end time."})");

  // Server time is the simulated clock.
  r = http_get(port(), "/fapi/v1/time");
  const int64_t t = json::parse(r.body)["serverTime"];
  EXPECT_GE(t, kStart);
  EXPECT_LT(t, kStart + 60'000);
  r = http_get(port(), "/api/v3/time");
  EXPECT_TRUE(json::parse(r.body).contains("serverTime"));
}

TEST_F(SimExchangeTest, Rest429And418Faults) {
  auto o = generator_options(1.0);
  o.faults.rest_429 = 1.0;
  start(o);
  auto r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=5");
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.headers["Retry-After"], "1");
  EXPECT_EQ(json::parse(r.body)["code"], -1003);
  EXPECT_FALSE(r.headers["X-MBX-USED-WEIGHT-1M"].empty());
  EXPECT_EQ(ex_->stats().rest_429, 1u);
  auto stats = json::parse(http_get(port(), "/sim/stats").body);
  EXPECT_EQ(stats["faults"]["rest_429"], 1);
  ex_->stop();

  o.faults.rest_429 = 0;
  o.faults.rest_418 = 1.0;
  o.retry_after_s = 2;
  start(o);
  r = http_get(port(), "/fapi/v1/time");
  EXPECT_EQ(r.status, 418u);
  EXPECT_EQ(r.headers["Retry-After"], "2");
  EXPECT_NE(r.body.find("IP banned until"), std::string::npos) << r.body;
}

TEST_F(SimExchangeTest, NaturalRateLimitAfterWeightBudget) {
  auto o = generator_options(1.0);
  o.futures_weight_limit = 12;
  start(o);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=500").status, 200u);
  }
  auto r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=500");
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.headers["X-MBX-USED-WEIGHT-1M"], "15");
  EXPECT_GE(std::stoi(r.headers["Retry-After"]), 1);
}

struct Frame {
  std::string stream;
  int64_t E, t, T, f, L, n;
  bool x;
  double o, h, l, c, v;
};

Frame parse_frame(const std::string& text) {
  auto j = json::parse(text);
  EXPECT_EQ(j.size(), 2u);
  const auto& d = j["data"];
  const auto& k = d["k"];
  EXPECT_EQ(d["e"], "kline");
  EXPECT_EQ(k["s"], d["s"]);
  EXPECT_EQ(k["i"], "1m");
  EXPECT_EQ(k["B"], "0");
  for (const char* key : {"o", "c", "h", "l", "v", "q", "V", "Q"}) EXPECT_TRUE(k[key].is_string()) << key;
  Frame f{j["stream"], d["E"], k["t"], k["T"], k["f"], k["L"], k["n"], k["x"],
          num(k["o"]), num(k["h"]), num(k["l"]), num(k["c"]), num(k["v"])};
  return f;
}

TEST_F(SimExchangeTest, WsCombinedStreamsCloseEveryBarAndPing) {
  const int64_t start_ts = *parse_iso8601("2024-03-10T12:00:00Z");
  start(generator_options(3000.0, start_ts));  // a 1m bar every 20 ms, a ping every 60 ms
  auto cap = ws_capture(port(), "/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m", 800ms);
  ASSERT_TRUE(cap.error.empty() || !cap.server_closed) << cap.error;
  ASSERT_GT(cap.texts.size(), 40u);
  std::map<std::string, std::vector<Frame>> by_stream;
  int64_t last_e = 0;
  for (const auto& t : cap.texts) {
    // Binance's exact key order and spelling.
    ASSERT_EQ(t.rfind(R"({"stream":")", 0), 0u) << t;
    ASSERT_NE(t.find(R"(","data":{"e":"kline","E":)"), std::string::npos) << t;
    Frame f = parse_frame(t);
    EXPECT_GE(f.E, last_e);  // no faults: event times never go back
    last_e = f.E;
    EXPECT_EQ(f.T, f.t + 59'999);
    EXPECT_EQ(f.n, f.L - f.f + 1);
    by_stream[f.stream].push_back(f);
  }
  ASSERT_EQ(by_stream.size(), 2u);
  for (const auto& [stream, frames] : by_stream) {
    const size_t sym = stream == "btcusdt@kline_1m" ? 0 : 1;
    int closes = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
      const Frame& f = frames[i];
      if (i > 0) {
        // Within a stream: updates of bar t, then its close, then bar t + 1m.
        const Frame& p = frames[i - 1];
        if (p.x) {
          EXPECT_EQ(f.t, p.t + kMinuteMs);
          EXPECT_EQ(f.f, p.L + 1);  // trade ids continue
        } else {
          EXPECT_EQ(f.t, p.t) << "bar " << p.t << " was not closed before the next one";
        }
      }
      const auto ref = reference(sym, f.t, f.t + kMinuteMs);
      ASSERT_EQ(ref.size(), 1u);
      EXPECT_EQ(f.o, ref[0].open);
      EXPECT_LE(f.h, ref[0].high);
      EXPECT_GE(f.l, ref[0].low);
      if (f.x) {
        ++closes;
        EXPECT_GT(f.E, f.T);
        EXPECT_LT(f.E, f.T + 1000);
        EXPECT_EQ(f.h, ref[0].high);
        EXPECT_EQ(f.l, ref[0].low);
        EXPECT_EQ(f.c, ref[0].close);
        EXPECT_EQ(f.v, ref[0].volume);
        EXPECT_EQ(f.n, static_cast<int64_t>(ref[0].trades));
      } else {
        EXPECT_LT(f.E, f.T);
        EXPECT_LE(f.v, ref[0].volume);
      }
    }
    EXPECT_GE(closes, 15) << stream;
  }
  EXPECT_GE(cap.pings, 3);
  EXPECT_GE(ex_->stats().ws_pongs, 3u);
}

TEST_F(SimExchangeTest, WsSubscribeMethodAndRawRoute) {
  start(generator_options(3000.0));
  auto cap = ws_capture(port(), "/market/stream", 400ms,
                        {R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":7})",
                         R"({"method":"LIST_SUBSCRIPTIONS","id":8})"});
  ASSERT_GE(cap.texts.size(), 5u) << cap.error;
  EXPECT_EQ(cap.texts[0], R"({"result":null,"id":7})");
  EXPECT_NE(std::find(cap.texts.begin(), cap.texts.end(), R"({"result":["btcusdt@kline_1m"],"id":8})"),
            cap.texts.end());
  EXPECT_EQ(json::parse(cap.texts.back())["stream"], "btcusdt@kline_1m");
  // Raw route: the event without the combined wrapper.
  cap = ws_capture(port(), "/ws/ethusdt@kline_1m", 2000ms, {}, 3);
  ASSERT_EQ(cap.texts.size(), 3u) << cap.error;
  auto j = json::parse(cap.texts[0]);
  EXPECT_EQ(j["e"], "kline");
  EXPECT_EQ(j["s"], "ETHUSDT");
}

TEST_F(SimExchangeTest, WsSpotRouteAndConnectionAgeCut) {
  auto o = generator_options(3000.0);
  o.max_connection_age_ms = 300;  // stands for Binance's 24 h cut
  start(o);
  auto cap = ws_capture(port(), "/spot/stream?streams=btcusdt@kline_1m", 3000ms);
  EXPECT_TRUE(cap.server_closed);
  EXPECT_EQ(cap.close_code, 1001);
  ASSERT_GT(cap.texts.size(), 5u);
  // Spot writes 8 decimals.
  const std::string o_text = json::parse(cap.texts[0])["data"]["k"]["o"];
  EXPECT_EQ(o_text.size() - o_text.find('.') - 1, 8u) << o_text;
  EXPECT_EQ(ex_->stats().ws_age_cuts, 1u);
}

TEST_F(SimExchangeTest, WsStreamLimitRefusesTheConnection) {
  start(generator_options(1.0));
  std::string target = "/market/stream?streams=";
  for (int i = 0; i < 1025; ++i) {
    if (i > 0) target += '/';
    target += 's';
    target += std::to_string(i);
    target += "usdt@kline_1m";
  }
  auto cap = ws_capture(port(), target, 2000ms);
  EXPECT_TRUE(cap.server_closed);
  EXPECT_EQ(cap.close_code, 1008);
  EXPECT_TRUE(cap.texts.empty());
  EXPECT_EQ(ex_->stats().ws_refused_stream_limit, 1u);
  // 1024 is allowed.
  target = target.substr(0, target.rfind('/'));
  cap = ws_capture(port(), target, 100ms);
  EXPECT_FALSE(cap.server_closed) << cap.error;
  EXPECT_TRUE(cap.idle_timeout);  // accepted; these symbols have no data
  EXPECT_EQ(ex_->stats().ws_refused_stream_limit, 1u);
}

TEST_F(SimExchangeTest, WsSubscribeOverTheConfiguredLimitCloses) {
  auto o = generator_options(1.0);
  o.stream_limit = 2;
  start(o);
  auto cap = ws_capture(port(), "/market/stream?streams=btcusdt@kline_1m", 2000ms,
                        {R"({"method":"SUBSCRIBE","params":["ethusdt@kline_1m","bnbusdt@kline_1m"],"id":1})"});
  EXPECT_TRUE(cap.server_closed);
  EXPECT_EQ(cap.close_code, 1008);
}

// Frames of one stream at high speed with one fault on at rate 1.
std::vector<Frame> fault_run(SimExchange& ex, std::chrono::milliseconds d) {
  auto cap = ws_capture(ex.port(), "/market/stream?streams=btcusdt@kline_1m", d);
  std::vector<Frame> frames;
  for (const auto& t : cap.texts) frames.push_back(parse_frame(t));
  return frames;
}

TEST_F(SimExchangeTest, WsFaultsMissingDuplicateLate) {
  auto o = generator_options(3000.0);
  o.faults.missing_close = 1.0;
  start(o);
  auto frames = fault_run(*ex_, 400ms);
  ASSERT_GT(frames.size(), 20u);
  std::set<int64_t> bars;
  for (const auto& f : frames) {
    EXPECT_FALSE(f.x);
    bars.insert(f.t);
  }
  EXPECT_GT(bars.size(), 5u);  // the next bar's updates show the close
  EXPECT_GT(ex_->stats().missing_closes, 5u);
  ex_->stop();

  o.faults = FaultSpec{};
  o.faults.duplicate = 1.0;
  start(o);
  frames = fault_run(*ex_, 400ms);
  std::map<int64_t, int> closes;
  for (const auto& f : frames) closes[f.t] += f.x;
  ASSERT_GT(closes.size(), 5u);
  closes.erase(std::prev(closes.end()));  // the last bar's copy may still be held
  closes.erase(std::prev(closes.end()));
  for (const auto& [t, n] : closes) {
    if (t == frames.front().t && n == 0) continue;
    EXPECT_EQ(n, 2) << t;
  }
  EXPECT_GT(ex_->stats().duplicates, 3u);
  ex_->stop();

  o.faults = FaultSpec{};
  o.faults.late_close = 1.0;
  start(o);
  frames = fault_run(*ex_, 400ms);
  int late = 0;
  for (size_t i = 1; i < frames.size(); ++i) {
    if (frames[i].x) {
      // Each close arrives after the first update of the next bar.
      EXPECT_EQ(frames[i - 1].t, frames[i].t + kMinuteMs);
      EXPECT_FALSE(frames[i - 1].x);
      ++late;
    }
  }
  EXPECT_GT(late, 5);
}

TEST_F(SimExchangeTest, WsFaultsDisconnectStallReorder) {
  auto o = generator_options(3000.0);
  o.faults.disconnect = 1.0;
  start(o);
  auto cap = ws_capture(port(), "/market/stream?streams=btcusdt@kline_1m", 2000ms);
  EXPECT_TRUE(cap.server_closed);
  EXPECT_TRUE(cap.texts.empty());
  EXPECT_EQ(ex_->stats().disconnects, 1u);
  ex_->stop();

  o.faults = FaultSpec{};
  o.faults.stall = 1.0;
  start(o);
  cap = ws_capture(port(), "/market/stream?streams=btcusdt@kline_1m", 300ms);
  EXPECT_TRUE(cap.texts.empty());
  EXPECT_FALSE(cap.server_closed);
  EXPECT_TRUE(cap.idle_timeout);
  EXPECT_EQ(ex_->stats().stalls, 1u);
  EXPECT_EQ(cap.pings, 0);  // a stalled connection sends nothing at all
  ex_->stop();

  o.faults = FaultSpec{};
  o.faults.reorder = 0.3;
  start(o);
  cap = ws_capture(port(), "/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m", 500ms);
  int backwards = 0;
  int64_t last = 0;
  for (const auto& t : cap.texts) {
    const Frame f = parse_frame(t);
    backwards += f.E < last;
    last = std::max(last, f.E);
  }
  EXPECT_GT(backwards, 0);
  EXPECT_GT(ex_->stats().reorders, 0u);
}

TEST_F(SimExchangeTest, BulkArchiveMatchesChecksumAndCorruptFaultBreaksIt) {
  start(generator_options(1.0));
  const std::string base = "/data/futures/um/monthly/klines/BTCUSDT/1m/";
  auto zip = http_get(port(), base + "BTCUSDT-1m-2024-02.zip");
  ASSERT_EQ(zip.status, 200u) << zip.body;
  auto sum = http_get(port(), base + "BTCUSDT-1m-2024-02.zip.CHECKSUM");
  ASSERT_EQ(sum.status, 200u);
  EXPECT_EQ(sum.body.substr(0, 66), vision::sha256_hex(zip.body) + "  ");
  EXPECT_NE(sum.body.find("BTCUSDT-1m-2024-02.zip"), std::string::npos);
  // Its bars are the generator's February.
  const std::string dir = temp_dir("archive");
  std::ofstream(dir + "/BTCUSDT-1m-2024-02.zip", std::ios::binary) << zip.body;
  std::ofstream(dir + "/BTCUSDT-1m-2024-02.zip.CHECKSUM", std::ios::binary) << sum.body;
  auto bars = vision::read_vision_archive(dir + "/BTCUSDT-1m-2024-02.zip");
  ASSERT_TRUE(bars) << bars.error().message;
  const auto ref = reference(0, *parse_iso8601("2024-02-01"), *parse_iso8601("2024-03-01"));
  ASSERT_EQ(bars->size(), ref.size());
  ASSERT_EQ(bars->size(), 29u * 1440u);
  for (size_t i = 0; i < ref.size(); i += 997) EXPECT_TRUE((*bars)[i].same_values(ref[i])) << i;

  // Only complete periods: yesterday's daily file, not today's, not this month's.
  EXPECT_EQ(http_get(port(), "/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-09.zip").status, 200u);
  EXPECT_EQ(http_get(port(), "/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-10.zip").status, 404u);
  EXPECT_EQ(http_get(port(), base + "BTCUSDT-1m-2024-03.zip").status, 404u);
  EXPECT_EQ(http_get(port(), "/data/spot/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2024-03-09.zip").status, 200u);
  EXPECT_EQ(http_get(port(), "/data/futures/um/daily/klines/FOOUSDT/1m/FOOUSDT-1m-2024-03-09.zip").status, 404u);
  ex_->stop();

  auto o = generator_options(1.0);
  o.faults.corrupt_archive = 1.0;
  start(o);
  auto bad = http_get(port(), base + "BTCUSDT-1m-2024-02.zip");
  ASSERT_EQ(bad.status, 200u);
  EXPECT_EQ(bad.body.size(), zip.body.size());
  EXPECT_NE(vision::sha256_hex(bad.body), sum.body.substr(0, 64));
  std::ofstream(dir + "/BTCUSDT-1m-2024-02.zip", std::ios::binary | std::ios::trunc) << bad.body;
  auto broken = vision::read_vision_archive(dir + "/BTCUSDT-1m-2024-02.zip");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("checksum mismatch"), std::string::npos) << broken.error().message;
  EXPECT_EQ(ex_->stats().corrupt_archives, 1u);
  std::filesystem::remove_all(dir);
}

// huge_zip: the zip and its .CHECKSUM agree, the entry declares 1 PiB; the reader
// refuses it by its bound. stall_archive: a download that never answers.
TEST_F(SimExchangeTest, HugeZipAndStallArchiveFaults) {
  auto o = generator_options(1.0);
  o.faults.huge_zip = 1.0;
  start(o);
  const std::string base = "/data/futures/um/monthly/klines/BTCUSDT/1m/";
  auto zip = http_get(port(), base + "BTCUSDT-1m-2024-02.zip");
  ASSERT_EQ(zip.status, 200u);
  auto sum = http_get(port(), base + "BTCUSDT-1m-2024-02.zip.CHECKSUM");
  ASSERT_EQ(sum.status, 200u);
  EXPECT_EQ(sum.body, vision::checksum_line(zip.body, "BTCUSDT-1m-2024-02.zip"));
  const std::string dir = temp_dir("huge");
  std::ofstream(dir + "/BTCUSDT-1m-2024-02.zip", std::ios::binary) << zip.body;
  std::ofstream(dir + "/BTCUSDT-1m-2024-02.zip.CHECKSUM", std::ios::binary) << sum.body;
  auto bars = vision::read_vision_archive(dir + "/BTCUSDT-1m-2024-02.zip");
  ASSERT_FALSE(bars);
  EXPECT_NE(bars.error().message.find("' declares 1125899906842624 bytes, above the bound of "), std::string::npos)
      << bars.error().message;
  EXPECT_EQ(ex_->stats().huge_zips, 1u);
  std::filesystem::remove_all(dir);
  ex_->stop();

  o = generator_options(1.0);
  o.faults.stall_archive = 1.0;
  start(o);
  const std::string url = "http://127.0.0.1:" + std::to_string(port()) + base + "BTCUSDT-1m-2024-02.zip";
  {
    af::net::HttpClientOptions ho;
    ho.io_timeout_ms = 500;
    af::net::HttpClient client(ho);
    auto stalled = client.get(url);
    ASSERT_FALSE(stalled);
    EXPECT_EQ(stalled.error().message, "GET " + url + ": read: The socket was closed due to a timeout");
  }
  // A stop request from another thread ends the stalled GET at once (the read
  // timeout is 30 s): what Ctrl+C during warmup relies on.
  std::stop_source stop;
  af::net::HttpClientOptions ho;
  ho.stop = stop.get_token();
  af::net::HttpClient client(ho);
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  });
  const auto began = std::chrono::steady_clock::now();
  auto stopped = client.get(url);
  const auto took = std::chrono::steady_clock::now() - began;
  stopper.join();
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().message, "GET " + url + ": stopped");
  EXPECT_FALSE(stopped.error().transient);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(client.get(url).error().message, "GET " + url + ": stopped");  // and stays stopped
  EXPECT_EQ(http_get(port(), base + "BTCUSDT-1m-2024-02.zip.CHECKSUM").status, 200u);
  EXPECT_EQ(ex_->stats().stalled_archives, 2u);
}

TEST_F(SimExchangeTest, TlsWithGeneratedCa) {
  auto o = generator_options(3000.0);
  const std::string dir = temp_dir("tls");
  o.tls_cert_dir = dir;
  start(o);
  ASSERT_EQ(ex_->ca_file(), dir + "/ca.pem");
  auto r = http_get(port(), "/fapi/v1/time", ex_->ca_file(), "localhost");
  EXPECT_EQ(r.status, 200u) << r.error;
  EXPECT_TRUE(json::parse(r.body).contains("serverTime"));
  // Wrong host name: verification fails.
  r = http_get(port(), "/fapi/v1/time", ex_->ca_file(), "wrong.example.com");
  EXPECT_EQ(r.status, 0u);
  EXPECT_FALSE(r.error.empty());
  // Plain HTTP still works on the same port.
  EXPECT_EQ(http_get(port(), "/fapi/v1/time").status, 200u);
  // wss
  auto cap = ws_capture(port(), "/market/stream?streams=btcusdt@kline_1m", 2000ms, {}, 2, ex_->ca_file());
  EXPECT_EQ(cap.texts.size(), 2u) << cap.error;
  std::filesystem::remove_all(dir);
}

TEST_F(SimExchangeTest, MirrorModeServesTheMirror) {
  const std::string dir = temp_dir("mirror");
  const int64_t from = *parse_iso8601("2024-01-01");
  const int64_t to = *parse_iso8601("2024-02-15");
  ASSERT_TRUE(synthetic::write_synthetic_mirror(dir, {"BTCUSDT"}, kMinuteMs, from, to, 3));
  SimExchangeOptions o;
  o.data_dir = dir;
  start(o);
  EXPECT_EQ(ex_->sim_start_ms(), from + 30 * kDayMs);  // default start: first bar + 30 days
  ex_->stop();
  o.start_ms = *parse_iso8601("2024-02-10T00:00:00Z");
  start(o);
  vision::VisionSource src(dir, vision::VisionMarket::kFuturesUm, kMinuteMs);
  const int64_t t0 = *parse_iso8601("2024-01-05T10:00:00Z");
  auto expected = src.history("BTCUSDT", t0, t0 + 3 * kMinuteMs);
  ASSERT_TRUE(expected);
  auto r = http_get(port(), "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=3&startTime=" + std::to_string(t0));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto rows = json::parse(r.body);
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rows[i][0].get<int64_t>(), (*expected)[i].ts);
    EXPECT_EQ(num(rows[i][4]), (*expected)[i].close);
    EXPECT_EQ(num(rows[i][5]), (*expected)[i].volume);
  }
  // The mirror's monthly file is served byte for byte.
  const std::string rel = "/data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip";
  r = http_get(port(), rel);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, read_file(dir + rel));
  // A daily file the mirror lacks is written from its bars.
  auto z = http_get(port(), "/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-20.zip");
  auto s = http_get(port(), "/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-20.zip.CHECKSUM");
  ASSERT_EQ(z.status, 200u);
  EXPECT_EQ(s.body.substr(0, 64), vision::sha256_hex(z.body));
  EXPECT_EQ(http_get(port(), "/fapi/v1/klines?symbol=ETHUSDT&interval=1m").status, 400u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace af::sim
