// BinanceKlineParser on real captured frames (skipped without $AF_SHARED_DIR/data),
// on frames built here, and on malformed frames.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "binance/binance_kline_parser.hpp"

namespace af::binance {
namespace {

constexpr int64_t kNow = 1'800'000'000'000LL;  // 2027-01-15, after every sample

std::string samples_dir() {
  const char* shared = std::getenv("AF_SHARED_DIR");
  std::string dir = std::string(shared ? shared : "/nonexistent") + "/data/samples";
  std::ifstream probe(dir + "/README.md");
  return probe ? dir : std::string();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// A futures combined-stream frame, built field by field so that each test can bend one.
struct FrameSpec {
  std::string stream = "btcusdt@kline_1m";
  std::string e = "kline";
  std::string s = "BTCUSDT";
  std::string ks = "BTCUSDT";
  std::string t = "1700000040000";
  std::string T = "1700000099999";
  std::string i = "1m";
  std::string o = "\"100.5\"", c = "\"101.25\"", h = "\"102\"", l = "\"99.75\"";
  std::string v = "\"10.5\"", n = "42", q = "\"1060.5\"", V = "\"4.25\"", Q = "\"430.1\"";
  std::string x = "false";
  bool combined = true;

  std::string build() const {
    std::string k = "{\"t\":" + t + ",\"T\":" + T + ",\"s\":\"" + ks + "\",\"i\":\"" + i +
                    "\",\"f\":1,\"L\":2,\"o\":" + o + ",\"c\":" + c + ",\"h\":" + h + ",\"l\":" + l +
                    ",\"v\":" + v + ",\"n\":" + n + ",\"x\":" + x + ",\"q\":" + q + ",\"V\":" + V +
                    ",\"Q\":" + Q + ",\"B\":\"0\"}";
    std::string data = "{\"e\":\"" + e + "\",\"E\":1700000050123,\"s\":\"" + s + "\",\"k\":" + k + "}";
    if (!combined) return data;
    return "{\"stream\":\"" + stream + "\",\"data\":" + data + "}";
  }
};

class KlineParserTest : public ::testing::Test {
 protected:
  BinanceKlineParser parser_{{"ETHUSDT", "BTCUSDT"}};
  KlineUpdate u_;
  KlineError parse(const std::string& frame) { return parser_.parse(frame, kNow, u_); }
};

TEST_F(KlineParserTest, BuiltCombinedFrame) {
  ASSERT_EQ(parse(FrameSpec{}.build()), KlineError::kNone);
  EXPECT_EQ(u_.symbol, "BTCUSDT");
  EXPECT_EQ(u_.symbol_index, 1u);
  EXPECT_EQ(u_.interval_ms, 60'000);
  EXPECT_EQ(u_.bar.ts, 1700000040000);
  EXPECT_EQ(u_.bar.open, 100.5);
  EXPECT_EQ(u_.bar.close, 101.25);
  EXPECT_EQ(u_.bar.high, 102.0);
  EXPECT_EQ(u_.bar.low, 99.75);
  EXPECT_EQ(u_.bar.volume, 10.5);
  EXPECT_EQ(u_.bar.trades, 42.0);
  EXPECT_EQ(u_.bar.quote_volume, 1060.5);
  EXPECT_EQ(u_.bar.taker_buy_volume, 4.25);
  EXPECT_EQ(u_.bar.taker_buy_quote_volume, 430.1);
  EXPECT_EQ(u_.bar.origin, BarOrigin::kStream);
  EXPECT_FALSE(u_.closed);
  EXPECT_EQ(u_.event_time, 1700000050123);
}

TEST_F(KlineParserTest, RawFrameClosedAndNumbersAsNumbersOrStrings) {
  FrameSpec f;
  f.combined = false;
  f.x = "true";
  f.o = "100.5";           // a number, not a string
  f.t = "\"1700000040000\"";  // a timestamp written as a string
  f.n = "\"42\"";
  ASSERT_EQ(parse(f.build()), KlineError::kNone);
  EXPECT_TRUE(u_.closed);
  EXPECT_EQ(u_.bar.open, 100.5);
  EXPECT_EQ(u_.bar.ts, 1700000040000);
  EXPECT_EQ(u_.bar.trades, 42.0);
}

TEST_F(KlineParserTest, ExtraFieldsWhitespaceAndOrder) {
  const std::string frame =
      "{ \"data\" : { \"k\" : { \"Q\":\"1\", \"V\":\"1\", \"q\":\"3\", \"x\": true, \"n\": 3, \"v\":\"2\","
      " \"l\":\"1\", \"h\":\"3\", \"c\":\"2\", \"o\":\"2\", \"i\":\"5m\", \"s\":\"ETHUSDT\","
      " \"T\": 1700000099999, \"t\": 1699999800000, \"new\": [1, {\"a\": null}] },"
      " \"zz\": {\"nested\": true}, \"s\": \"ETHUSDT\", \"E\": 1700000300001, \"e\": \"kline\" },"
      " \"stream\" : \"ethusdt@kline_5m\", \"extra\": 1 }";
  ASSERT_EQ(parse(frame), KlineError::kNone);
  EXPECT_EQ(u_.symbol, "ETHUSDT");
  EXPECT_EQ(u_.interval_ms, 300'000);
  EXPECT_TRUE(u_.closed);
  EXPECT_EQ(u_.bar.high, 3.0);
}

TEST_F(KlineParserTest, Malformed) {
  struct Case {
    const char* what;
    std::string frame;
    KlineError expected;
  };
  std::vector<Case> cases;
  auto with = [](auto mutate) {
    FrameSpec f;
    mutate(f);
    return f.build();
  };
  cases.push_back({"empty", "", KlineError::kJson});
  cases.push_back({"truncated", FrameSpec{}.build().substr(0, 120), KlineError::kJson});
  cases.push_back({"array", "[1,2]", KlineError::kJson});
  cases.push_back({"subscription reply", "{\"result\":null,\"id\":1}", KlineError::kNotKline});
  cases.push_back({"other event", with([](FrameSpec& f) { f.e = "aggTrade"; }), KlineError::kNotKline});
  cases.push_back({"unknown symbol", with([](FrameSpec& f) { f.s = f.ks = "DOGEUSDT"; f.stream = "dogeusdt@kline_1m"; }),
                   KlineError::kUnknownSymbol});
  cases.push_back({"symbol mismatch", with([](FrameSpec& f) { f.s = "ETHUSDT"; }), KlineError::kSymbolMismatch});
  cases.push_back({"stream mismatch", with([](FrameSpec& f) { f.stream = "ethusdt@kline_1m"; }),
                   KlineError::kSymbolMismatch});
  cases.push_back({"stream interval mismatch", with([](FrameSpec& f) { f.stream = "btcusdt@kline_5m"; }),
                   KlineError::kSymbolMismatch});
  cases.push_back({"bad interval", with([](FrameSpec& f) { f.i = "7m"; }), KlineError::kUnknownInterval});
  cases.push_back({"misaligned t", with([](FrameSpec& f) { f.t = "1700000040001"; }), KlineError::kBadTimes});
  cases.push_back({"bad T", with([](FrameSpec& f) { f.T = "1700000100000"; }), KlineError::kBadTimes});
  cases.push_back({"price text", with([](FrameSpec& f) { f.o = "\"1x\""; }), KlineError::kBadNumber});
  cases.push_back({"price empty", with([](FrameSpec& f) { f.c = "\"\""; }), KlineError::kBadNumber});
  cases.push_back({"price null", with([](FrameSpec& f) { f.c = "null"; }), KlineError::kBadNumber});
  cases.push_back({"price nan", with([](FrameSpec& f) { f.c = "\"nan\""; }), KlineError::kBadNumber});
  cases.push_back({"price inf", with([](FrameSpec& f) { f.h = "\"inf\""; }), KlineError::kBadNumber});
  cases.push_back({"price zero", with([](FrameSpec& f) { f.l = "\"0\""; f.o = "\"0\""; }), KlineError::kBadPrice});
  cases.push_back({"price negative", with([](FrameSpec& f) { f.l = "\"-1\""; }), KlineError::kBadPrice});
  cases.push_back({"high below close", with([](FrameSpec& f) { f.h = "\"101\""; }), KlineError::kInconsistentOhlc});
  cases.push_back({"low above open", with([](FrameSpec& f) { f.l = "\"100.6\""; }), KlineError::kInconsistentOhlc});
  cases.push_back({"negative volume", with([](FrameSpec& f) { f.v = "\"-1\""; }), KlineError::kBadVolume});
  cases.push_back({"taker above total", with([](FrameSpec& f) { f.V = "\"11\""; }), KlineError::kBadVolume});
  cases.push_back({"negative trades", with([](FrameSpec& f) { f.n = "-3"; }), KlineError::kBadVolume});
  cases.push_back({"x not bool", with([](FrameSpec& f) { f.x = "\"true\""; }), KlineError::kJson});
  cases.push_back({"far future", with([](FrameSpec& f) { f.t = "1900000020000"; f.T = "1900000079999"; }),
                   KlineError::kFutureTime});
  cases.push_back({"before 2017", with([](FrameSpec& f) { f.t = "1000000020000"; f.T = "1000000079999"; }),
                   KlineError::kFutureTime});
  cases.push_back({"no k", "{\"e\":\"kline\",\"E\":1,\"s\":\"BTCUSDT\"}", KlineError::kMissingField});
  {
    std::string f = FrameSpec{}.build();
    f.replace(f.find("\"q\":"), 4, "\"z\":");
    cases.push_back({"q missing", f, KlineError::kMissingField});
  }
  cases.push_back({"too large", std::string(BinanceKlineParser::kMaxFrameBytes + 1, ' '), KlineError::kTooLarge});
  for (const auto& c : cases) {
    EXPECT_EQ(kline_error_name(parse(c.frame)), std::string(kline_error_name(c.expected))) << c.what;
  }
  // The parser is reusable after errors.
  EXPECT_EQ(parse(FrameSpec{}.build()), KlineError::kNone);
}

TEST(KlineParserRealTest, CapturedFramesMisc) {
  const std::string dir = samples_dir();
  if (dir.empty()) GTEST_SKIP() << "AF_SHARED_DIR/data absent";
  auto lines = read_lines(dir + "/ws_captured_kline_frames_misc.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  BinanceKlineParser parser({"BTCUSDT"});
  KlineUpdate u;
  // (1) testnet open frame with spaces after commas inside k.
  ASSERT_EQ(parser.parse(lines[0], kNow, u), KlineError::kNone);
  EXPECT_EQ(u.bar.ts, 1785048480000);
  EXPECT_FALSE(u.closed);
  EXPECT_EQ(u.bar.close, 64346.70);
  EXPECT_EQ(u.bar.trades, 11.0);
  // (2) its x=true closing frame.
  ASSERT_EQ(parser.parse(lines[1], kNow, u), KlineError::kNone);
  EXPECT_TRUE(u.closed);
  EXPECT_EQ(u.bar.ts, 1785048480000);
  EXPECT_EQ(u.bar.low, 64336.00);
  EXPECT_EQ(u.bar.volume, 24.8783);
  EXPECT_EQ(u.bar.taker_buy_quote_volume, 1576474.845990);
  EXPECT_EQ(u.event_time, 1785048540333);
  // (3) 2026 /market route frame; (4) spot combined; (5) spot raw 5m.
  ASSERT_EQ(parser.parse(lines[2], kNow, u), KlineError::kNone);
  EXPECT_EQ(u.bar.ts, 1788936900000);
  EXPECT_EQ(u.bar.quote_volume, 3384949.92680);
  ASSERT_EQ(parser.parse(lines[3], kNow, u), KlineError::kNone);
  EXPECT_EQ(u.bar.open, 108521.04);
  ASSERT_EQ(parser.parse(lines[4], kNow, u), KlineError::kNone);
  EXPECT_EQ(u.interval_ms, 300'000);
  EXPECT_EQ(u.bar.ts, 1631636700000);
  // The local clock guards against absurd times: the 2026 frame is "future" in 2021.
  EXPECT_EQ(parser.parse(lines[2], 1631636735735, u), KlineError::kFutureTime);
}

TEST(KlineParserRealTest, SpotRawCapture) {
  const std::string dir = samples_dir();
  if (dir.empty()) GTEST_SKIP() << "AF_SHARED_DIR/data absent";
  auto lines = read_lines(dir + "/ws_spot_raw_btcusdt_kline_5m_capture_2021-09-14.jsonl");
  ASSERT_EQ(lines.size(), 49u);
  BinanceKlineParser parser({"BTCUSDT"});
  KlineUpdate u;
  int64_t prev_e = 0;
  double prev_volume = 0;
  for (const auto& line : lines) {
    ASSERT_EQ(parser.parse(line, kNow, u), KlineError::kNone) << line;
    EXPECT_EQ(u.bar.ts, 1631637000000);
    EXPECT_FALSE(u.closed);
    EXPECT_GT(u.event_time, prev_e);
    EXPECT_GE(u.bar.volume, prev_volume);  // one open candle: volume only grows
    prev_e = u.event_time;
    prev_volume = u.bar.volume;
  }
}

}  // namespace
}  // namespace af::binance
