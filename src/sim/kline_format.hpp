#pragma once
// Binance's kline texts, byte for byte in shape: the WebSocket kline event (raw and
// combined-stream forms) and the REST klines row (array of 12 values). Numbers are
// strings with the symbol's fixed decimals, as Binance writes them. Also the
// partial (still open) state of a bar at a fraction of its time, so that open-bar
// updates and the REST open bar are consistent with the bar that closes.
// Pure functions, any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bar.hpp"
#include "sim/market_data.hpp"

namespace af::sim {

// One kline event: a bar's state at event time E.
struct KlineEvent {
  int64_t event_time = 0;  // E
  Bar bar;                 // ts = open time t; values so far
  int64_t interval_ms = 0;
  int64_t first_trade = -1;  // f
  int64_t last_trade = -1;   // L
  bool closed = false;       // x
};

// The bar as it stood at `fraction` (0..1] of its time: the price walks
// open -> first extreme -> second extreme -> close (low first for a rising bar),
// high/low are the running extremes, volumes and trades grow linearly; values
// are rounded to the symbol's grid. fraction >= 1 returns `final_bar` unchanged.
Bar partial_bar(const Bar& final_bar, double fraction, const NumberFormat& format);

// {"e":"kline","E":...,"s":"BTCUSDT","k":{...}}
std::string kline_event_json(const std::string& symbol, const std::string& interval, const KlineEvent& ev,
                             const NumberFormat& format);

// {"stream":"btcusdt@kline_1m","data":<event>}
std::string combined_frame(std::string_view stream, std::string_view event_json);

// Appends [t,"o","h","l","c","v",T,"q",n,"V","Q","0"] to `out`.
void append_rest_kline(std::string& out, const Bar& bar, int64_t interval_ms, const NumberFormat& format);

// `v` with exactly `decimals` decimals ("64346.70").
std::string fixed(double v, int decimals);

}  // namespace af::sim
