#include "nats/bar_codec.hpp"

#include <array>
#include <cmath>

#include "common/interval.hpp"
#include "common/number_format.hpp"
#include "common/symbol.hpp"
#include "nats/subject.hpp"

namespace af::nats {
namespace {

constexpr std::array<BarOrigin, 4> kOrigins{BarOrigin::kArchive, BarOrigin::kRest, BarOrigin::kStream,
                                            BarOrigin::kDerived};

enum Field : int {
  kV, kSource, kInterval, kSymbol, kOpenTime, kOpen, kHigh, kLow, kClose, kVolume, kQuoteVolume, kTrades,
  kTakerBuyVolume, kTakerBuyQuoteVolume, kOrigin, kComplete, kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames{
    "v", "source", "interval", "symbol", "open_time_ms", "open", "high", "low", "close", "volume",
    "quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume", "origin", "complete"};

void append_field(std::string& out, std::string_view name, double v) {
  out += ",\"";
  out += name;
  out += "\":";
  append_double(out, v);
}

Error field_error(std::string_view field, std::string_view problem) {
  return make_error("bar payload: field '" + std::string(field) + "': " + std::string(problem));
}

}  // namespace

std::string bar_series_problem(const BarSeries& s) {
  if (auto p = subject_token_problem(s.source); !p.empty()) return "source '" + s.source + "' " + p;
  for (char c : s.source) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!plain) return "source '" + s.source + "' holds '" + std::string(1, c) + "' (letters, digits, '_' and '-' only)";
  }
  if (!parse_interval(s.interval)) return "interval '" + s.interval + "' is not an exchange interval";
  if (auto p = symbol_problem(s.symbol); !p.empty()) return "'" + s.symbol + "' " + p;
  return {};
}

std::string bar_subject(const BarSeries& s) {
  return std::string(kBarSubjectRoot) + "." + s.source + "." + s.interval + "." + s.symbol;
}

std::string bar_msg_id(const BarSeries& s, int64_t open_ts_ms) {
  return s.source + "." + s.interval + "." + s.symbol + "." + std::to_string(open_ts_ms);
}

std::string bar_subject_wildcard(const std::string& source, const std::string& interval) {
  return std::string(kBarSubjectRoot) + "." + source + "." + interval + ".*";
}

Result<std::string> encode_bar(const BarMessage& m) {
  if (auto p = bar_series_problem(m.series); !p.empty()) return make_error("bar series: " + p);
  const Bar& b = m.bar;
  const auto values = b.values();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return make_error("bar " + bar_msg_id(m.series, b.ts) + ": " + std::string(kBarColumns[i]) +
                        " is not finite; a bar on the bus carries finite values only");
    }
  }
  std::string out;
  out.reserve(320);
  out += "{\"v\":" + std::to_string(kBarFormatVersion);
  out += ",\"source\":\"" + m.series.source + "\",\"interval\":\"" + m.series.interval + "\",\"symbol\":\"" +
         m.series.symbol + "\",\"open_time_ms\":" + std::to_string(b.ts);
  for (size_t i = 0; i < values.size(); ++i) append_field(out, kBarColumns[i], values[i]);
  out += ",\"origin\":\"";
  out += bar_origin_name(b.origin);
  out += "\",\"complete\":";
  out += b.complete ? "true" : "false";
  out += '}';
  return out;
}

Result<BarSeries> parse_bar_subject(std::string_view subject) {
  const std::string root = std::string(kBarSubjectRoot) + ".";
  if (subject.substr(0, root.size()) != root) {
    return make_error("bar subject '" + std::string(subject) + "' does not start with " + root);
  }
  std::string_view rest = subject.substr(root.size());
  BarSeries s;
  std::string* parts[] = {&s.source, &s.interval, &s.symbol};
  for (int i = 0; i < 3; ++i) {
    const size_t dot = rest.find('.');
    if ((dot == std::string_view::npos) != (i == 2)) {
      return make_error("bar subject '" + std::string(subject) + "' is not af.bars.<source>.<interval>.<SYMBOL>");
    }
    *parts[i] = std::string(rest.substr(0, dot));
    if (dot != std::string_view::npos) rest.remove_prefix(dot + 1);
  }
  if (auto p = bar_series_problem(s); !p.empty()) return make_error("bar subject '" + std::string(subject) + "': " + p);
  return s;
}

Result<BarMessage> BarDecoder::decode(std::string_view payload) {
  simdjson::dom::element root;
  if (auto err = parser_.parse(payload.data(), payload.size()).get(root)) {
    return make_error(std::string("bar payload: not JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return make_error("bar payload: not a JSON object");
  BarMessage m;
  Bar& b = m.bar;
  double* numbers[] = {&b.open, &b.high, &b.low, &b.close, &b.volume, &b.quote_volume, &b.trades,
                       &b.taker_buy_volume, &b.taker_buy_quote_volume};
  std::array<bool, kFieldCount> seen{};
  for (auto field : obj) {
    int f = 0;
    while (f < kFieldCount && kFieldNames[f] != field.key) ++f;
    if (f == kFieldCount) return make_error("bar payload: unknown field '" + std::string(field.key) + "'");
    if (seen[f]) return field_error(kFieldNames[f], "appears twice");
    seen[f] = true;
    const auto v = field.value;
    switch (f) {
      case kV: {
        int64_t version = 0;
        if (v.get_int64().get(version) || version != kBarFormatVersion) {
          return field_error("v", "format version " + simdjson::minify(v) + " is not " + std::to_string(kBarFormatVersion));
        }
        break;
      }
      case kSource:
      case kInterval:
      case kSymbol: {
        std::string_view text;
        if (v.get_string().get(text)) return field_error(kFieldNames[f], "not a string");
        (f == kSource ? m.series.source : f == kInterval ? m.series.interval : m.series.symbol) = std::string(text);
        break;
      }
      case kOpenTime:
        if (v.get_int64().get(b.ts)) return field_error("open_time_ms", "not an integer");
        if (b.ts < 0) return field_error("open_time_ms", "negative");
        break;
      case kOrigin: {
        std::string_view text;
        if (v.get_string().get(text)) return field_error("origin", "not a string");
        bool known = false;
        for (BarOrigin o : kOrigins) {
          if (text == bar_origin_name(o)) {
            b.origin = o;
            known = true;
          }
        }
        if (!known) return field_error("origin", "'" + std::string(text) + "' is not archive, rest, stream or derived");
        break;
      }
      case kComplete:
        if (v.get_bool().get(b.complete)) return field_error("complete", "not true or false");
        break;
      default: {
        double& out = *numbers[f - kOpen];
        if (v.get_double().get(out) || !std::isfinite(out)) return field_error(kFieldNames[f], "not a finite number");
        if (f >= kVolume && out < 0) return field_error(kFieldNames[f], "negative");
        break;
      }
    }
  }
  for (int f = 0; f < kFieldCount; ++f) {
    if (!seen[f]) return field_error(kFieldNames[f], "missing");
  }
  if (auto p = bar_series_problem(m.series); !p.empty()) return make_error("bar payload: " + p);
  return m;
}

}  // namespace af::nats
