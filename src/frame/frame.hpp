#pragma once
// Frame: a panel, one SymbolSeries per symbol of the universe, all with the same
// columns. Symbols are dense ids (SymbolId) fixed at start-up. Owned by the
// runtime Engine; used only by the compute thread.

#include <cstdint>
#include <string>
#include <vector>

#include "frame/symbol_series.hpp"

namespace af {

using SymbolId = uint32_t;

class Frame {
 public:
  Frame(std::string name, int64_t interval_ms, std::vector<std::string> columns, size_t capacity,
        size_t symbol_count);

  const std::string& name() const { return name_; }
  int64_t interval_ms() const { return interval_ms_; }
  const std::vector<std::string>& columns() const { return columns_; }
  int column_index(const std::string& column) const;  // -1 if absent
  size_t capacity() const { return capacity_; }

  SymbolSeries& series(SymbolId s) { return series_[s]; }
  const SymbolSeries& series(SymbolId s) const { return series_[s]; }
  size_t symbol_count() const { return series_.size(); }

 private:
  std::string name_;
  int64_t interval_ms_;
  std::vector<std::string> columns_;
  size_t capacity_;
  std::vector<SymbolSeries> series_;
};

}  // namespace af
