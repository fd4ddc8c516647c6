#pragma once
// BinanceKlineParser: turns one Binance kline WebSocket frame (combined-stream
// `{"stream":..,"data":{..}}` or raw `{"e":"kline",..}`) into a KlineUpdate, with
// simdjson On-Demand, a reused parser and error codes (no exceptions, no
// allocation per frame in steady state). Owned by whoever reads the socket (the
// WebSocket client's io thread); not thread-safe: one parser per thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "common/bar.hpp"

namespace af::binance {

// One kline message. `symbol` views the parser's own copy of the universe name
// (stable for the parser's lifetime), so an update can be queued without copying.
struct KlineUpdate {
  std::string_view symbol;
  uint32_t symbol_index = 0;  // position of the symbol in the parser's universe
  int64_t interval_ms = 0;
  Bar bar;                    // origin kStream; ts = kline open time `t`
  bool closed = false;        // Binance `x`
  int64_t event_time = 0;     // Binance `E` (exchange clock), 0 when absent
};

// Why a frame was rejected. A malformed frame is counted and logged (rate-limited)
// by the caller, never fatal.
enum class KlineError : uint8_t {
  kNone,
  kTooLarge,          // frame longer than kMaxFrameBytes
  kJson,              // not JSON, truncated, wrong type for a field
  kNotKline,          // valid JSON but not a kline event (subscription reply, other event)
  kMissingField,      // a required kline field is absent
  kBadNumber,         // a number (or a number written as a string) does not parse
  kUnknownInterval,   // `i` is not a Binance interval
  kBadTimes,          // open time not aligned to the interval, or T != t + interval - 1
  kUnknownSymbol,     // symbol outside the universe
  kSymbolMismatch,    // data.s != k.s, or the stream name does not match
  kBadPrice,          // a price is not finite and positive
  kInconsistentOhlc,  // high < max(open, close, low) or low > min(open, close)
  kBadVolume,         // a volume or trade count is negative / not finite, or taker > total
  kFutureTime,        // open time beyond now + max_future_ms, or before 2017
};

const char* kline_error_name(KlineError e);

struct KlineParserOptions {
  int64_t max_future_ms = 2 * 86'400'000LL;  // ts further ahead of the local clock is absurd
};

class BinanceKlineParser {
 public:
  static constexpr size_t kMaxFrameBytes = 64 * 1024;

  // `universe`: the symbols accepted, as Binance writes them (BTCUSDT).
  explicit BinanceKlineParser(std::vector<std::string> universe, KlineParserOptions options = {});
  BinanceKlineParser(const BinanceKlineParser&) = delete;
  BinanceKlineParser& operator=(const BinanceKlineParser&) = delete;

  // Parses `frame`; on success fills `out` and returns kNone. `now_ms` is the
  // local clock, used only to reject absurd future timestamps.
  KlineError parse(std::string_view frame, int64_t now_ms, KlineUpdate& out);

  const std::vector<std::string>& universe() const { return names_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  KlineError parse_event(simdjson::ondemand::object obj, std::string_view stream, int64_t now_ms, KlineUpdate& out);
  KlineError parse_kline(simdjson::ondemand::object k, KlineUpdate& out, std::string_view& k_symbol);

  simdjson::ondemand::parser parser_;
  std::unique_ptr<char[]> buffer_;  // kMaxFrameBytes + simdjson padding, allocated once
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ids_;
  KlineParserOptions options_;
};

}  // namespace af::binance
