#pragma once
// SymbolSeries: the rows of one (frame, symbol) pair, a fixed-capacity ring buffer.
// Row-major (a row's columns are contiguous) so that a model reads a window of
// rows in one sweep. Capacity is fixed when the DAG is compiled: memory is bounded
// by design. Owned by a Frame; used only by the compute thread.

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "common/bar.hpp"
#include "common/state_archive.hpp"

namespace af {

class SymbolSeries {
 public:
  SymbolSeries(size_t columns, size_t capacity)
      : columns_(columns), capacity_(capacity), data_(columns * capacity), ts_(capacity), origin_(capacity) {
    assert(capacity > 0 && columns >= kBarColumns.size());
  }

  size_t columns() const { return columns_; }
  size_t capacity() const { return capacity_; }
  size_t size() const { return total_ < capacity_ ? static_cast<size_t>(total_) : capacity_; }
  bool empty() const { return total_ == 0; }
  uint64_t total_rows() const { return total_; }  // rows ever appended

  // Appends a row for `bar`: bar columns set, every other column NaN. Returns the
  // new row's values, which steps fill in. No allocation.
  std::span<double> append(const Bar& bar) {
    const size_t slot = static_cast<size_t>(total_ % capacity_);
    double* row = &data_[slot * columns_];
    const auto values = bar.values();
    for (size_t c = 0; c < values.size(); ++c) row[c] = values[c];
    for (size_t c = values.size(); c < columns_; ++c) row[c] = std::numeric_limits<double>::quiet_NaN();
    ts_[slot] = bar.ts;
    origin_[slot] = bar.origin;
    ++total_;
    return {row, columns_};
  }

  // Drops every row, as if none had been appended (the capacity stays).
  void clear() { total_ = 0; }

  // back = 0 is the newest row; back < size().
  const double* row(size_t back) const { return &data_[slot_of(back) * columns_]; }
  double* mutable_row(size_t back) { return &data_[slot_of(back) * columns_]; }
  double value(size_t column, size_t back) const { return row(back)[column]; }
  int64_t ts(size_t back) const { return ts_[slot_of(back)]; }
  BarOrigin origin(size_t back) const { return origin_[slot_of(back)]; }
  int64_t last_ts() const { return empty() ? std::numeric_limits<int64_t>::min() : ts(0); }

  void save(StateWriter& w) const {
    w.put<uint64_t>(total_);
    w.put_vector(data_);
    w.put_vector(ts_);
    w.put_vector(origin_);
  }
  bool load(StateReader& r) {
    const auto total = r.get<uint64_t>();
    std::vector<double> data;
    std::vector<int64_t> ts;
    std::vector<BarOrigin> origin;
    r.get_vector(data);
    r.get_vector(ts);
    r.get_vector(origin);
    if (r.failed() || data.size() != data_.size() || ts.size() != ts_.size() || origin.size() != origin_.size())
      return false;
    total_ = total;
    data_ = std::move(data);
    ts_ = std::move(ts);
    origin_ = std::move(origin);
    return true;
  }

 private:
  size_t slot_of(size_t back) const {
    assert(back < size());
    return static_cast<size_t>((total_ - 1 - back) % capacity_);
  }

  size_t columns_;
  size_t capacity_;
  std::vector<double> data_;
  std::vector<int64_t> ts_;
  std::vector<BarOrigin> origin_;
  uint64_t total_ = 0;
};

}  // namespace af
