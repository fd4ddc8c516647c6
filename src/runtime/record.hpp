#pragma once
// PredictionRecord: what the emitter hands to every sink. Fixed-size and
// allocation-free: the strings it points to (symbol, dag name, frame, column) are
// owned by the Engine and outlive every sink.

#include <cstdint>
#include <string>

#include "common/bar.hpp"

namespace af {

struct PredictionRecord {
  int64_t ts = 0;  // bar open time, ms
  const std::string* symbol = nullptr;
  double prediction = 0;
  const std::string* dag_name = nullptr;
  const std::string* frame = nullptr;
  const std::string* column = nullptr;
  int64_t emitted_at = 0;  // wall clock, ms; not part of parity
  BarOrigin origin = BarOrigin::kArchive;  // of the triggering source bar
};

}  // namespace af
