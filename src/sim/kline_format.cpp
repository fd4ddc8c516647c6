#include "sim/kline_format.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace af::sim {
namespace {

double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

}  // namespace

std::string fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

Bar partial_bar(const Bar& final_bar, double fraction, const NumberFormat& format) {
  if (fraction >= 1) return final_bar;
  fraction = std::max(fraction, 0.0);
  const Bar& b = final_bar;
  // The intrabar path: four points at times 0, 1/3, 2/3, 1.
  const bool rising = b.close >= b.open;
  const double path[4] = {b.open, rising ? b.low : b.high, rising ? b.high : b.low, b.close};
  const double pos = fraction * 3;
  const int seg = std::min(2, static_cast<int>(pos));
  const double w = pos - seg;
  const double price = round_to(path[seg] + (path[seg + 1] - path[seg]) * w, format.price);
  Bar p = b;
  p.close = std::clamp(price, b.low, b.high);
  p.high = b.open;
  p.low = b.open;
  for (int i = 1; i <= seg; ++i) {
    p.high = std::max(p.high, path[i]);
    p.low = std::min(p.low, path[i]);
  }
  p.high = std::max(p.high, p.close);
  p.low = std::min(p.low, p.close);
  p.volume = round_to(b.volume * fraction, format.qty);
  p.taker_buy_volume = std::min(p.volume, round_to(b.taker_buy_volume * fraction, format.qty));
  p.quote_volume = round_to(b.quote_volume * fraction, format.quote);
  p.taker_buy_quote_volume = std::min(p.quote_volume, round_to(b.taker_buy_quote_volume * fraction, format.quote));
  p.trades = b.trades > 0 ? std::max(1.0, std::round(b.trades * fraction)) : 0;
  return p;
}

std::string kline_event_json(const std::string& symbol, const std::string& interval, const KlineEvent& ev,
                             const NumberFormat& f) {
  const Bar& b = ev.bar;
  return fmt::format(
      R"({{"e":"kline","E":{},"s":"{}","k":{{"t":{},"T":{},"s":"{}","i":"{}","f":{},"L":{},"o":"{}","c":"{}","h":"{}","l":"{}","v":"{}","n":{},"x":{},"q":"{}","V":"{}","Q":"{}","B":"0"}}}})",
      ev.event_time, symbol, b.ts, b.ts + ev.interval_ms - 1, symbol, interval, ev.first_trade, ev.last_trade,
      fixed(b.open, f.price), fixed(b.close, f.price), fixed(b.high, f.price), fixed(b.low, f.price),
      fixed(b.volume, f.qty), static_cast<int64_t>(b.trades), ev.closed ? "true" : "false",
      fixed(b.quote_volume, f.quote), fixed(b.taker_buy_volume, f.qty), fixed(b.taker_buy_quote_volume, f.quote));
}

std::string combined_frame(std::string_view stream, std::string_view event_json) {
  std::string out;
  out.reserve(event_json.size() + stream.size() + 22);
  out += R"({"stream":")";
  out += stream;
  out += R"(","data":)";
  out += event_json;
  out += '}';
  return out;
}

void append_rest_kline(std::string& out, const Bar& b, int64_t interval_ms, const NumberFormat& f) {
  fmt::format_to(std::back_inserter(out), R"([{},"{}","{}","{}","{}","{}",{},"{}",{},"{}","{}","0"])", b.ts,
                 fixed(b.open, f.price), fixed(b.high, f.price), fixed(b.low, f.price), fixed(b.close, f.price),
                 fixed(b.volume, f.qty), b.ts + interval_ms - 1, fixed(b.quote_volume, f.quote),
                 static_cast<int64_t>(b.trades), fixed(b.taker_buy_volume, f.qty),
                 fixed(b.taker_buy_quote_volume, f.quote));
}

}  // namespace af::sim
