#include "sim/kline_format.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace af::sim {
namespace {

// The USD-M mainnet frame captured in ws_captured_kline_frames_misc.jsonl (line 3),
// rebuilt from its values: our text must be byte-identical.
TEST(KlineFormat, ReproducesCapturedFuturesFrame) {
  const std::string captured =
      R"({"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1788936947361,"s":"BTCUSDT","k":{"t":1788936900000,"T":1788936959999,"s":"BTCUSDT","i":"1m","f":8062213398,"L":8062214482,"o":"79095.40","c":"79104.00","h":"79111.30","l":"79080.60","v":"42.797","n":1079,"x":false,"q":"3384949.92680","V":"14.001","Q":"1107450.49620","B":"0"}}})";
  KlineEvent ev;
  ev.event_time = 1788936947361;
  ev.interval_ms = 60000;
  ev.first_trade = 8062213398;
  ev.last_trade = 8062214482;
  ev.closed = false;
  ev.bar.ts = 1788936900000;
  ev.bar.open = 79095.4;
  ev.bar.close = 79104.0;
  ev.bar.high = 79111.3;
  ev.bar.low = 79080.6;
  ev.bar.volume = 42.797;
  ev.bar.trades = 1079;
  ev.bar.quote_volume = 3384949.9268;
  ev.bar.taker_buy_volume = 14.001;
  ev.bar.taker_buy_quote_volume = 1107450.4962;
  const NumberFormat f{2, 3, 5};
  EXPECT_EQ(combined_frame("btcusdt@kline_1m", kline_event_json("BTCUSDT", "1m", ev, f)), captured);
}

// The futures REST sample (rest_futures_klines_BTCUSDT_5m_2021-03-21_hexdocs.json), first row.
TEST(KlineFormat, ReproducesRestRow) {
  Bar b;
  b.ts = 1616338800000;
  b.open = 57212.69;
  b.high = 57315.00;
  b.low = 57196.19;
  b.close = 57300.00;
  b.volume = 496.263;
  b.quote_volume = 28425514.7894;
  b.trades = 7160;
  b.taker_buy_volume = 273.108;
  b.taker_buy_quote_volume = 15642623.69718;
  std::string out;
  append_rest_kline(out, b, 300000, NumberFormat{2, 3, 5});
  EXPECT_EQ(out,
            R"([1616338800000,"57212.69","57315.00","57196.19","57300.00","496.263",1616339099999,"28425514.78940",7160,"273.108","15642623.69718","0"])");
}

TEST(KlineFormat, PartialBarStaysInsideTheFinalBar) {
  Bar b;
  b.ts = 0;
  b.open = 100.0;
  b.high = 104.5;
  b.low = 98.25;
  b.close = 103.0;
  b.volume = 10.5;
  b.quote_volume = 1050.0;
  b.trades = 40;
  b.taker_buy_volume = 6.0;
  b.taker_buy_quote_volume = 600.0;
  const NumberFormat f{2, 3, 5};
  double prev_volume = 0;
  for (double fr : {0.0, 0.1, 0.25, 0.4, 0.5, 0.66, 0.75, 0.9, 0.99}) {
    const Bar p = partial_bar(b, fr, f);
    EXPECT_EQ(p.open, b.open);
    EXPECT_LE(p.high, b.high);
    EXPECT_GE(p.low, b.low);
    EXPECT_LE(p.close, p.high);
    EXPECT_GE(p.close, p.low);
    EXPECT_LE(p.volume, b.volume);
    EXPECT_GE(p.volume, prev_volume);
    EXPECT_LE(p.trades, b.trades);
    EXPECT_LE(p.taker_buy_volume, p.volume);
    prev_volume = p.volume;
  }
  // A rising bar visits its low in the first third and its high in the second.
  EXPECT_EQ(partial_bar(b, 0.4, f).low, b.low);
  EXPECT_EQ(partial_bar(b, 0.7, f).high, b.high);
  EXPECT_TRUE(partial_bar(b, 1.0, f).same_values(b));
}

TEST(KlineFormat, DecimalsOf) {
  EXPECT_EQ(decimals_of(42314.0), 0);
  EXPECT_EQ(decimals_of(42331.9), 1);
  EXPECT_EQ(decimals_of(0.0502), 4);
  EXPECT_EQ(decimals_of(3230.20434), 5);
}

}  // namespace
}  // namespace af::sim
