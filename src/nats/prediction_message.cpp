#include "nats/prediction_message.hpp"

#include "nats/subject.hpp"
#include "sinks/prediction_json.hpp"

namespace af::nats {

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
  return std::string(prefix) + "." + sinks::field_text(r.dag_name) + "." + sinks::field_text(r.symbol);
}

std::string prediction_msg_id(const PredictionRecord& r) {
  return sinks::field_text(r.dag_name) + "#" + sinks::field_text(r.symbol) + "#" + std::to_string(r.ts);
}

void append_prediction_json(std::string& out, const PredictionRecord& r) {
  out += '{';
  sinks::append_prediction_json_fields(out, r);
  out += '}';
}

}  // namespace af::nats
