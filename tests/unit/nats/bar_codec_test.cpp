// The bar message: subject, id, payload round trip bit for bit, and a decoder
// that refuses anything but the exact format, naming the field.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nats/bar_codec.hpp"

namespace af::nats {
namespace {

BarMessage sample() {
  BarMessage m;
  m.series = {"binance_futures", "1h", "BTCUSDT"};
  m.bar.ts = 1'735'689'600'000;
  m.bar.open = 93'576.1;
  m.bar.high = 94'000.0 + 1.0 / 3.0;  // no short decimal form: round trip must still be exact
  m.bar.low = 93'001.25;
  m.bar.close = 93'800.0;
  m.bar.volume = 1234.567;
  m.bar.quote_volume = 1.15e8;
  m.bar.trades = 45678;
  m.bar.taker_buy_volume = 600.1;
  m.bar.taker_buy_quote_volume = 5.6e7;
  m.bar.origin = BarOrigin::kRest;
  m.bar.complete = true;
  return m;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(BarCodec, SubjectAndId) {
  const auto m = sample();
  EXPECT_EQ(bar_subject(m.series), "af.bars.binance_futures.1h.BTCUSDT");
  EXPECT_EQ(bar_msg_id(m.series, m.bar.ts), "binance_futures.1h.BTCUSDT.1735689600000");
  EXPECT_EQ(bar_subject_wildcard("binance_futures", "1h"), "af.bars.binance_futures.1h.*");
  auto parsed = parse_bar_subject("af.bars.binance_futures.1h.BTCUSDT");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, m.series);
  EXPECT_EQ(parse_bar_subject("af.bars.x.1h").error().message,
            "bar subject 'af.bars.x.1h' is not af.bars.<source>.<interval>.<SYMBOL>");
  EXPECT_EQ(parse_bar_subject("af.bars.x.7m.BTCUSDT").error().message,
            "bar subject 'af.bars.x.7m.BTCUSDT': interval '7m' is not an exchange interval");
  EXPECT_FALSE(parse_bar_subject("af.prices.x.1h.BTCUSDT"));
}

TEST(BarCodec, RoundTripIsExact) {
  const auto m = sample();
  auto payload = encode_bar(m);
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_EQ(payload->rfind("{\"v\":1,\"source\":\"binance_futures\",\"interval\":\"1h\",\"symbol\":\"BTCUSDT\","
                           "\"open_time_ms\":1735689600000,\"open\":93576.1,",
                           0),
            0u)
      << *payload;
  BarDecoder d;
  auto back = d.decode(*payload);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->series, m.series);
  EXPECT_TRUE(back->bar.same_values(m.bar));
  EXPECT_EQ(back->bar.origin, BarOrigin::kRest);
  EXPECT_TRUE(back->bar.complete);
}

TEST(BarCodec, EncodeRefusesWhatJsonCannotHold) {
  auto m = sample();
  m.bar.close = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(encode_bar(m).error().message,
            "bar binance_futures.1h.BTCUSDT.1735689600000: close is not finite; a bar on the bus carries finite values only");
  m = sample();
  m.series.source = "bin\"ance";
  EXPECT_EQ(encode_bar(m).error().message,
            "bar series: source 'bin\"ance' holds '\"' (letters, digits, '_' and '-' only)");
  m = sample();
  m.series.symbol = "btc.usdt";
  EXPECT_FALSE(encode_bar(m));
}

TEST(BarCodec, DecoderIsStrict) {
  const std::string good = *encode_bar(sample());
  BarDecoder d;
  struct Case {
    std::string payload, error;
  };
  const std::vector<Case> cases = {
      {"not json", "bar payload: not JSON: "},
      {"[1,2]", "bar payload: not a JSON object"},
      {replace(good, "\"open\":93576.1,", ""), "bar payload: field 'open': missing"},
      {replace(good, "\"open\":93576.1,", "\"open\":93576.1,\"open\":1,"), "bar payload: field 'open': appears twice"},
      {replace(good, "\"open\":93576.1,", "\"open\":93576.1,\"vwap\":1,"), "bar payload: unknown field 'vwap'"},
      {replace(good, "\"open\":93576.1,", "\"open\":\"93576.1\","), "bar payload: field 'open': not a finite number"},
      {replace(good, "\"volume\":1234.567,", "\"volume\":-1,"), "bar payload: field 'volume': negative"},
      {replace(good, "\"open\":93576.1,", "\"open\":1e999,"), "bar payload: not JSON: "},
      {replace(good, "\"open_time_ms\":1735689600000", "\"open_time_ms\":1735689600000.5"),
       "bar payload: field 'open_time_ms': not an integer"},
      {replace(good, "\"open_time_ms\":1735689600000", "\"open_time_ms\":-1"), "bar payload: field 'open_time_ms': negative"},
      {replace(good, "\"v\":1", "\"v\":2"), "bar payload: field 'v': format version 2 is not 1"},
      {replace(good, "\"origin\":\"rest\"", "\"origin\":\"guess\""),
       "bar payload: field 'origin': 'guess' is not archive, rest, stream or derived"},
      {replace(good, "\"complete\":true", "\"complete\":1"), "bar payload: field 'complete': not true or false"},
      {replace(good, "\"symbol\":\"BTCUSDT\"", "\"symbol\":7"), "bar payload: field 'symbol': not a string"},
      {replace(good, "\"symbol\":\"BTCUSDT\"", "\"symbol\":\"../x\""), "bar payload: '../x' "},
      {replace(good, "\"interval\":\"1h\"", "\"interval\":\"1x\""), "bar payload: interval '1x' is not an exchange interval"},
  };
  for (const auto& c : cases) {
    auto r = d.decode(c.payload);
    ASSERT_FALSE(r) << c.payload;
    EXPECT_EQ(r.error().message.substr(0, c.error.size()), c.error) << r.error().message;
  }
  EXPECT_TRUE(d.decode(good));  // the parser is reusable after errors
}

}  // namespace
}  // namespace af::nats
