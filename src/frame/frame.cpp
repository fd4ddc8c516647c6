#include "frame/frame.hpp"

namespace af {

Frame::Frame(std::string name, int64_t interval_ms, std::vector<std::string> columns, size_t capacity,
             size_t symbol_count)
    : name_(std::move(name)), interval_ms_(interval_ms), columns_(std::move(columns)), capacity_(capacity) {
  series_.reserve(symbol_count);
  for (size_t i = 0; i < symbol_count; ++i) series_.emplace_back(columns_.size(), capacity_);
}

int Frame::column_index(const std::string& column) const {
  for (size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i] == column) return static_cast<int>(i);
  return -1;
}

}  // namespace af
