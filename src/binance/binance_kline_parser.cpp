#include "binance/binance_kline_parser.hpp"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/interval.hpp"

namespace af::binance {
namespace {

namespace od = simdjson::ondemand;

// 2017-01-01T00:00:00Z: Binance did not exist before; an earlier ts is garbage.
constexpr int64_t kEarliestMs = 1'483'228'800'000LL;

// The key of a field when it is one ASCII character ("t", "E"), else 0. The raw
// key points just after the opening quote, so a one-character key is "<c>\"".
char short_key(od::field& f) {
  const char* raw = f.key().raw();
  return raw[1] == '"' && raw[0] != '\\' ? raw[0] : 0;
}

// A number that Binance writes as a JSON number or as a decimal string.
bool read_double(od::value v, double& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::number) return !v.get_double().get(out) && std::isfinite(out);
  if (t != od::json_type::string) return false;
  std::string_view s;
  if (v.get_string().get(s) || s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

bool read_int(od::value v, int64_t& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::number) return !v.get_int64().get(out);
  if (t != od::json_type::string) return false;
  std::string_view s;
  if (v.get_string().get(s) || s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool iequal_lower(std::string_view lower, std::string_view upper) {
  if (lower.size() != upper.size()) return false;
  for (size_t i = 0; i < lower.size(); ++i) {
    char c = upper[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (lower[i] != c) return false;
  }
  return true;
}

}  // namespace

const char* kline_error_name(KlineError e) {
  switch (e) {
    case KlineError::kNone: return "ok";
    case KlineError::kTooLarge: return "frame_too_large";
    case KlineError::kJson: return "bad_json";
    case KlineError::kNotKline: return "not_kline";
    case KlineError::kMissingField: return "missing_field";
    case KlineError::kBadNumber: return "bad_number";
    case KlineError::kUnknownInterval: return "unknown_interval";
    case KlineError::kBadTimes: return "bad_times";
    case KlineError::kUnknownSymbol: return "unknown_symbol";
    case KlineError::kSymbolMismatch: return "symbol_mismatch";
    case KlineError::kBadPrice: return "bad_price";
    case KlineError::kInconsistentOhlc: return "inconsistent_ohlc";
    case KlineError::kBadVolume: return "bad_volume";
    case KlineError::kFutureTime: return "absurd_time";
  }
  return "?";
}

BinanceKlineParser::BinanceKlineParser(std::vector<std::string> universe, KlineParserOptions options)
    : names_(std::move(universe)), options_(options) {
  for (uint32_t i = 0; i < names_.size(); ++i) ids_.emplace(names_[i], i);
  buffer_ = std::make_unique<char[]>(kMaxFrameBytes + simdjson::SIMDJSON_PADDING);
  // Allocate the parser's internal buffers once, so that parse() never does.
  const auto alloc_error = parser_.allocate(kMaxFrameBytes);
  assert(alloc_error == simdjson::SUCCESS && "out of memory for the kline parser");
  (void)alloc_error;
}

KlineError BinanceKlineParser::parse(std::string_view frame, int64_t now_ms, KlineUpdate& out) {
  if (frame.size() > kMaxFrameBytes) return KlineError::kTooLarge;
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: copy into our padded buffer.
  std::memcpy(buffer_.get(), frame.data(), frame.size());
  std::memset(buffer_.get() + frame.size(), 0, simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (parser_.iterate(simdjson::padded_string_view(buffer_.get(), frame.size(), frame.size() + simdjson::SIMDJSON_PADDING))
          .get(doc)) {
    return KlineError::kJson;
  }
  od::object root;
  if (doc.get_object().get(root)) return KlineError::kJson;

  // Combined stream: {"stream":"btcusdt@kline_1m","data":{...}}; raw: the event itself.
  // Field order is not assumed; unknown fields are skipped.
  std::string_view stream;
  bool combined = false;
  KlineError result = KlineError::kNotKline;
  bool raw_kline = false;
  for (auto field_result : root) {
    od::field f;
    if (std::move(field_result).get(f)) return KlineError::kJson;
    const char c = short_key(f);
    if (c == 0 && f.key() == "stream") {
      if (f.value().get_string().get(stream)) return KlineError::kJson;
      combined = true;
    } else if (c == 0 && f.key() == "data") {
      od::object data;
      if (f.value().get_object().get(data)) return KlineError::kJson;
      result = parse_event(data, stream, now_ms, out);
      if (result != KlineError::kNone) return result;
      combined = true;
    } else if (c != 0 && !combined) {
      raw_kline = true;
      break;
    }
  }
  if (raw_kline) {
    bool unused = false;
    if (root.reset().get(unused)) return KlineError::kJson;
    result = parse_event(root, {}, now_ms, out);
  }
  return result;
}

KlineError BinanceKlineParser::parse_event(od::object obj, std::string_view stream, int64_t now_ms,
                                           KlineUpdate& out) {
  std::string_view event_symbol;
  std::string_view k_symbol;
  bool have_k = false;
  bool is_kline = false;
  out.event_time = 0;
  for (auto field_result : obj) {
    od::field f;
    if (std::move(field_result).get(f)) return KlineError::kJson;
    switch (short_key(f)) {
      case 'e': {
        std::string_view e;
        if (f.value().get_string().get(e)) return KlineError::kJson;
        if (e != "kline") return KlineError::kNotKline;
        is_kline = true;
        break;
      }
      case 'E':
        if (!read_int(f.value(), out.event_time)) return KlineError::kBadNumber;
        break;
      case 's':
        if (f.value().get_string().get(event_symbol)) return KlineError::kJson;
        break;
      case 'k': {
        od::object k;
        if (f.value().get_object().get(k)) return KlineError::kJson;
        const KlineError e = parse_kline(k, out, k_symbol);
        if (e != KlineError::kNone) return e;
        have_k = true;
        break;
      }
      default: break;
    }
  }
  if (!is_kline) return KlineError::kNotKline;
  if (!have_k) return KlineError::kMissingField;

  auto it = ids_.find(k_symbol);
  if (it == ids_.end()) return KlineError::kUnknownSymbol;
  if (!event_symbol.empty() && event_symbol != k_symbol) return KlineError::kSymbolMismatch;
  if (!stream.empty()) {
    // "btcusdt@kline_1m": lower-case symbol, then the interval.
    const size_t at = stream.find('@');
    if (at == std::string_view::npos || !iequal_lower(stream.substr(0, at), k_symbol) ||
        stream.substr(at + 1, 6) != "kline_") {
      return KlineError::kSymbolMismatch;
    }
    auto iv = parse_interval(stream.substr(at + 7));
    if (!iv || *iv != out.interval_ms) return KlineError::kSymbolMismatch;
  }
  out.symbol_index = it->second;
  out.symbol = names_[it->second];
  if (out.bar.ts < kEarliestMs || out.bar.ts > now_ms + options_.max_future_ms) return KlineError::kFutureTime;
  return KlineError::kNone;
}

KlineError BinanceKlineParser::parse_kline(od::object k, KlineUpdate& out, std::string_view& k_symbol) {
  enum : uint32_t {
    kT = 1, kCloseT = 2, kS = 4, kI = 8, kO = 16, kC = 32, kH = 64, kL = 128,
    kV = 256, kN = 512, kX = 1024, kQ = 2048, kTv = 4096, kTq = 8192,
    kAll = 16383
  };
  uint32_t seen = 0;
  int64_t close_time = 0;
  std::string_view interval;
  int64_t trades = 0;
  Bar& b = out.bar;
  b.origin = BarOrigin::kStream;
  b.complete = true;
  for (auto field_result : k) {
    od::field f;
    if (std::move(field_result).get(f)) return KlineError::kJson;
    bool ok = true;
    switch (short_key(f)) {
      case 't': ok = read_int(f.value(), b.ts); seen |= kT; break;
      case 'T': ok = read_int(f.value(), close_time); seen |= kCloseT; break;
      case 's':
        if (f.value().get_string().get(k_symbol)) return KlineError::kJson;
        seen |= kS;
        break;
      case 'i':
        if (f.value().get_string().get(interval)) return KlineError::kJson;
        seen |= kI;
        break;
      case 'o': ok = read_double(f.value(), b.open); seen |= kO; break;
      case 'c': ok = read_double(f.value(), b.close); seen |= kC; break;
      case 'h': ok = read_double(f.value(), b.high); seen |= kH; break;
      case 'l': ok = read_double(f.value(), b.low); seen |= kL; break;
      case 'v': ok = read_double(f.value(), b.volume); seen |= kV; break;
      case 'n': ok = read_int(f.value(), trades); seen |= kN; break;
      case 'q': ok = read_double(f.value(), b.quote_volume); seen |= kQ; break;
      case 'V': ok = read_double(f.value(), b.taker_buy_volume); seen |= kTv; break;
      case 'Q': ok = read_double(f.value(), b.taker_buy_quote_volume); seen |= kTq; break;
      case 'x':
        if (f.value().get_bool().get(out.closed)) return KlineError::kJson;
        seen |= kX;
        break;
      default: break;
    }
    if (!ok) return KlineError::kBadNumber;
  }
  if (seen != kAll) return KlineError::kMissingField;
  b.trades = static_cast<double>(trades);

  auto iv = parse_interval(interval);
  if (!iv) return KlineError::kUnknownInterval;
  out.interval_ms = *iv;
  if (bucket_start(b.ts, *iv) != b.ts || close_time != b.ts + *iv - 1) return KlineError::kBadTimes;

  if (!(b.open > 0 && b.high > 0 && b.low > 0 && b.close > 0)) return KlineError::kBadPrice;
  if (b.high < b.open || b.high < b.close || b.high < b.low || b.low > b.open || b.low > b.close) {
    return KlineError::kInconsistentOhlc;
  }
  if (!(b.volume >= 0 && b.quote_volume >= 0 && b.taker_buy_volume >= 0 && b.taker_buy_quote_volume >= 0 &&
        trades >= 0)) {
    return KlineError::kBadVolume;
  }
  if (b.taker_buy_volume > b.volume || b.taker_buy_quote_volume > b.quote_volume) return KlineError::kBadVolume;
  return KlineError::kNone;
}

}  // namespace af::binance
