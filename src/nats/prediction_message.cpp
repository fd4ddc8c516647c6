#include "nats/prediction_message.hpp"

#include <cmath>

#include "common/number_format.hpp"
#include "nats/subject.hpp"
#include "sinks/text_format.hpp"

namespace af::nats {
namespace {

const std::string kEmpty;
const std::string& str(const std::string* s) { return s ? *s : kEmpty; }

}  // namespace

std::string subject_prefix_problem(std::string_view prefix) {
  size_t start = 0;
  while (true) {
    const size_t dot = prefix.find('.', start);
    const std::string_view token = prefix.substr(start, dot == std::string_view::npos ? prefix.npos : dot - start);
    if (auto p = subject_token_problem(token); !p.empty()) {
      std::string why = "'";
      why.append(prefix).append("' is not a subject prefix: token '").append(token).append("' ").append(p);
      return why;
    }
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
}

std::string prediction_subject(std::string_view prefix, const PredictionRecord& r) {
  return std::string(prefix) + "." + str(r.dag_name) + "." + str(r.symbol);
}

std::string prediction_msg_id(const PredictionRecord& r) {
  return str(r.dag_name) + "#" + str(r.symbol) + "#" + std::to_string(r.ts);
}

void append_prediction_json(std::string& out, const PredictionRecord& r) {
  out += "{\"dag_name\":";
  sinks::append_json_string(out, str(r.dag_name));
  out += ",\"symbol\":";
  sinks::append_json_string(out, str(r.symbol));
  out += ",\"ts\":";
  sinks::detail::append_digits(out, r.ts, 1);
  out += ",\"prediction\":";
  if (std::isfinite(r.prediction)) {
    append_double(out, r.prediction);
  } else {
    out += '"';
    append_double(out, r.prediction);
    out += '"';
  }
  out += ",\"frame\":";
  sinks::append_json_string(out, str(r.frame));
  out += ",\"column\":";
  sinks::append_json_string(out, str(r.column));
  out += ",\"emitted_at\":";
  sinks::detail::append_digits(out, r.emitted_at, 1);
  out += ",\"origin\":\"";
  out += bar_origin_name(r.origin);
  out += "\"}";
}

}  // namespace af::nats
