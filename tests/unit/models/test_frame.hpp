#pragma once
// Helpers for model tests: a frame layout (bar columns plus named extras) and
// a SymbolSeries filled with given extra-column values.

#include <cmath>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "frame/symbol_series.hpp"
#include "registry/param.hpp"
#include "runtime/model.hpp"

namespace af::models::testing {

inline std::vector<std::string> frame_columns(const std::vector<std::string>& extras) {
  std::vector<std::string> cols(kBarColumns.begin(), kBarColumns.end());
  cols.insert(cols.end(), extras.begin(), extras.end());
  return cols;
}

// Appends one row whose close is `close` and whose extra columns are `extras`.
inline void append_row(SymbolSeries& s, int64_t ts, double close, const std::vector<double>& extras) {
  Bar b;
  b.ts = ts;
  b.open = b.high = b.low = b.close = close;
  auto row = s.append(b);
  for (size_t i = 0; i < extras.size(); ++i) row[kBarColumns.size() + i] = extras[i];
}

// Owns everything a ModelContext refers to.
struct ContextHolder {
  registry::Params params;
  std::optional<std::string> model_ref;
  std::vector<std::string> columns;
  int first_output_column = 0;
  std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"};
  int64_t capacity = 64;

  ModelContext context() const {
    return ModelContext{params, model_ref, columns, first_output_column, symbols, capacity};
  }
};

}  // namespace af::models::testing
