#pragma once
// A TransformOutput that records what a transform emits, and when.

#include <span>
#include <vector>

#include "runtime/transform.hpp"

namespace af::test {

struct Emitted {
  SymbolId symbol;
  Bar bar;
  std::vector<double> extra;
  size_t at_input;  // index of the input bar during which it was emitted
};

class Collector : public TransformOutput {
 public:
  void emit(SymbolId symbol, const Bar& bar, std::span<const double> extra) override {
    rows.push_back({symbol, bar, std::vector<double>(extra.begin(), extra.end()), input_index});
  }
  std::vector<Emitted> rows;
  size_t input_index = 0;
};

}  // namespace af::test
