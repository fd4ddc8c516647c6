#pragma once
// The bar message of the market-data bus: its subject, its de-duplication id and
// its JSON payload. The one definition of the format, shared by the publisher
// (`ingest`) and the consumer (`signal --bus`):
//
//   subject  af.bars.<source>.<interval>.<SYMBOL>       af.bars.binance_futures.1h.BTCUSDT
//   msg id   <source>.<interval>.<SYMBOL>.<open_ts_ms>  binance_futures.1h.BTCUSDT.1735689600000
//   payload  {"v":1,"source":"binance_futures","interval":"1h","symbol":"BTCUSDT",
//             "open_time_ms":1735689600000,"open":..,"high":..,"low":..,"close":..,
//             "volume":..,"quote_volume":..,"trades":..,"taker_buy_volume":..,
//             "taker_buy_quote_volume":..,"origin":"stream","complete":true}
//
// Numbers are written in their shortest round-trip form, so a decoded bar equals
// the published one bit for bit. The decoder is strict: every field exactly once,
// no other field, the right types, finite values, non-negative volumes; an error
// names the field. A BarDecoder reuses its parser: one per consuming thread.

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bar.hpp"
#include "common/result.hpp"

namespace af::nats {

inline constexpr std::string_view kBarSubjectRoot = "af.bars";
inline constexpr int kBarFormatVersion = 1;
// A header of live bars (optional; the payload is the bar): the wall-clock moment,
// in Unix microseconds, the publishing side's feed found the bar final. A shard
// measures its close-to-emit latency from it, so the bus hop is inside the number
// (across machines the clocks' offset is too; docs/operations.md).
inline constexpr const char* kBarFinalAtHeader = "Af-Final-At-Us";

// Which series a bar belongs to: the data plugin's name after `data.`, the
// exchange interval ("1h"), the symbol.
struct BarSeries {
  std::string source, interval, symbol;
  bool operator==(const BarSeries&) const = default;
};

struct BarMessage {
  BarSeries series;
  Bar bar;
};

// Empty when every part can stand in a subject (and the symbol follows the
// exchange grammar, the interval is a known one); else the problem, naming the part.
std::string bar_series_problem(const BarSeries& series);

// Subject and id; the series must be valid (bar_series_problem empty).
std::string bar_subject(const BarSeries& series);
std::string bar_msg_id(const BarSeries& series, int64_t open_ts_ms);
// "af.bars.<source>.<interval>.*": every symbol of one source and interval.
std::string bar_subject_wildcard(const std::string& source, const std::string& interval);

// The payload; an error when a value is not finite (JSON has no NaN).
Result<std::string> encode_bar(const BarMessage& message);

// Parses the subject back into its series ("af.bars.binance_futures.1h.BTCUSDT").
Result<BarSeries> parse_bar_subject(std::string_view subject);

class BarDecoder {
 public:
  // Decodes and validates one payload. Errors: "bar payload: field 'high': not a finite number".
  Result<BarMessage> decode(std::string_view payload);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace af::nats
