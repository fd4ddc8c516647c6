#pragma once
// The prediction message of `sinks.nats`: one record on
//   subject  <subject_prefix>.<dag_name>.<SYMBOL>   af.predictions.btc_momentum.BTCUSDT
//   msg id   <dag_name>#<SYMBOL>#<ts>               btc_momentum#BTCUSDT#1735689600000
//   payload  {"dag_name":"btc_momentum","symbol":"BTCUSDT","ts":1735689600000,
//             "prediction":0.0123,"frame":"ohlcv","column":"y_hat",
//             "emitted_at":1735693200123,"origin":"stream"}
// `ts` is the record's time as its sink labels it (ts_label: open or close time).
// A prediction that is not finite is written as the string "nan", "inf" or "-inf"
// (JSON has no such numbers), as sinks.clickhouse does.

#include <string>
#include <string_view>

#include "runtime/record.hpp"

namespace af::nats {

// Empty when `prefix` is one or more plain subject tokens ("af.predictions"); else why not.
std::string subject_prefix_problem(std::string_view prefix);

std::string prediction_subject(std::string_view prefix, const PredictionRecord& record);
std::string prediction_msg_id(const PredictionRecord& record);
// Appends the payload to `out` (a buffer the caller reuses).
void append_prediction_json(std::string& out, const PredictionRecord& record);

}  // namespace af::nats
