#pragma once
// The JSON shape of a prediction record, written once for the sinks that send
// JSON objects (sinks.clickhouse as JSONEachRow, sinks.nats as message payloads):
// dag_name, symbol, ts, prediction, frame, column, emitted_at, origin.
// Allocation-free apart from `out` growing; no braces, so a sink can add fields.

#include <cmath>
#include <string>

#include "common/bar.hpp"
#include "common/number_format.hpp"
#include "runtime/record.hpp"
#include "sinks/text_format.hpp"

namespace af::sinks {

// A record's string fields are pointers owned by the engine; null reads as "".
inline const std::string& field_text(const std::string* s) {
  static const std::string kEmpty;
  return s ? *s : kEmpty;
}

// How times are written: as they are, or negative ones as 0 for a store whose
// time columns are unsigned (ClickHouse UInt64).
enum class JsonTimes { kSigned, kClampNegative };

// `"dag_name":"…","symbol":"…","ts":…,"prediction":…,"frame":"…","column":"…",
// "emitted_at":…,"origin":"…"`. A prediction that is not finite is written as a
// string ("nan", "inf"): JSON has no such numbers.
inline void append_prediction_json_fields(std::string& out, const PredictionRecord& r,
                                          JsonTimes times = JsonTimes::kSigned) {
  const auto time = [times](int64_t ms) { return times == JsonTimes::kClampNegative && ms < 0 ? 0 : ms; };
  out += "\"dag_name\":";
  append_json_string(out, field_text(r.dag_name));
  out += ",\"symbol\":";
  append_json_string(out, field_text(r.symbol));
  out += ",\"ts\":";
  detail::append_digits(out, time(r.ts), 1);
  out += ",\"prediction\":";
  if (std::isfinite(r.prediction)) {
    append_double(out, r.prediction);
  } else {
    out += '"';
    append_double(out, r.prediction);
    out += '"';
  }
  out += ",\"frame\":";
  append_json_string(out, field_text(r.frame));
  out += ",\"column\":";
  append_json_string(out, field_text(r.column));
  out += ",\"emitted_at\":";
  detail::append_digits(out, time(r.emitted_at), 1);
  out += ",\"origin\":\"";
  out += bar_origin_name(r.origin);
  out += '"';
}

}  // namespace af::sinks
