#pragma once
// Prediction records for sink and delivery tests. A PredictionRecord points at its
// dag, frame and column names; RecordLabels owns those strings, so a test keeps one
// labels object alive for as long as its records and states only what differs
// (the names a sink must escape, the origin it must write).

#include <cstdint>
#include <string>

#include "runtime/record.hpp"

namespace af::test {

struct RecordLabels {
  std::string dag_name = "dag1";
  std::string frame = "ohlcv";
  std::string column = "prediction";
  BarOrigin origin = BarOrigin::kArchive;

  // `symbol` must outlive the record too (tests keep their symbols as constants).
  PredictionRecord record(int64_t ts, const std::string& symbol, double prediction, int64_t emitted_at) const {
    PredictionRecord r;
    r.ts = ts;
    r.symbol = &symbol;
    r.prediction = prediction;
    r.dag_name = &dag_name;
    r.frame = &frame;
    r.column = &column;
    r.emitted_at = emitted_at;
    r.origin = origin;
    return r;
  }
};

}  // namespace af::test
