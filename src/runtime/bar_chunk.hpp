#pragma once
// BarChunk: a run of bars, as DataSource::history_chunk returns a window (sorted
// by ts, no duplicates) or open_vision_bars a whole file (file order). Either
// owned (a vector, for sources that decode into memory) or viewed in place in
// columns that a source keeps mapped (the decoded-bar cache,
// vision/vision_bar_cache.hpp): replay then reads the bars straight from the
// mapped file instead of first copying a month into a std::vector<Bar> (whose
// fresh pages' first-touch faults were a large part of a warm replay).
// A value type, moved; owned by the replay driver; compute thread.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "common/bar.hpp"

namespace af {

// Column pointers of a run of bars laid out one column after the other: ts, the
// nine kBarColumns values, and one flags byte per bar (bits 0-2 the BarOrigin,
// bit 3 complete). Plain bytes: the storage may be a memory-mapped file.
struct BarColumns {
  const unsigned char* ts = nullptr;         // int64_t per bar
  const unsigned char* values[9] = {};       // double per bar, kBarColumns order
  const unsigned char* flags = nullptr;      // uint8_t per bar
};

class BarChunk {
 public:
  BarChunk() = default;
  explicit BarChunk(std::vector<Bar> bars) : owned_(std::move(bars)), size_(owned_.size()) {}
  // Views rows [0, size) of `columns`; `keep_alive` owns their storage (a mapping)
  // and is released with the last chunk that views it.
  BarChunk(std::shared_ptr<const void> keep_alive, const BarColumns& columns, size_t size)
      : keep_alive_(std::move(keep_alive)), columns_(columns), size_(size), mapped_(true) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool mapped() const { return mapped_; }

  int64_t ts(size_t i) const {
    if (!mapped_) return owned_[begin_ + i].ts;
    int64_t v;
    std::memcpy(&v, columns_.ts + (begin_ + i) * 8, 8);
    return v;
  }

  // Bars i, i+1, ... as contiguous rows, at least one and at most what is left:
  // an owned chunk's rows in place; a mapped chunk's next `cap` (>= 1) rows
  // gathered from the columns into `scratch`. Reading a block at a time keeps
  // each column's reads sequential (eleven columns per series would otherwise
  // be eleven scattered streams per bar) and the rows in a small reused buffer.
  const Bar* rows(size_t i, Bar* scratch, size_t cap, size_t& count) const {
    if (!mapped_) {
      count = size_ - i;
      return owned_.data() + begin_ + i;
    }
    const size_t n = std::min(cap, size_ - i);  // a local: stores to `scratch` cannot alias it
    const size_t row = begin_ + i;
    for (size_t k = 0; k < n; ++k) std::memcpy(&scratch[k].ts, columns_.ts + (row + k) * 8, 8);
    double Bar::*const fields[9] = {&Bar::open,   &Bar::high,         &Bar::low,    &Bar::close,
                                    &Bar::volume, &Bar::quote_volume, &Bar::trades, &Bar::taker_buy_volume,
                                    &Bar::taker_buy_quote_volume};
    for (int c = 0; c < 9; ++c) {
      const unsigned char* col = columns_.values[c] + row * 8;
      for (size_t k = 0; k < n; ++k) std::memcpy(&(scratch[k].*fields[c]), col + k * 8, 8);
    }
    for (size_t k = 0; k < n; ++k) {
      const unsigned f = columns_.flags[row + k];
      scratch[k].origin = static_cast<BarOrigin>(f & 7u);
      scratch[k].complete = (f & 8u) != 0;
    }
    // The next block's lines, asked for now: a replay reads many series in
    // turn, too many column streams for the hardware prefetcher to follow, and
    // a mapped month is larger than the cache, so each block would otherwise
    // start with a miss per column line.
    const size_t ahead = std::min(cap, size_ - i - n);
    if (ahead > 0) {
      const size_t from = (row + n) * 8, to = (row + n + ahead) * 8;
      for (size_t b = from; b < to; b += 64) __builtin_prefetch(columns_.ts + b);
      for (int c = 0; c < 9; ++c)
        for (size_t b = from; b < to; b += 64) __builtin_prefetch(columns_.values[c] + b);
    }
    count = n;
    return scratch;
  }

  // Keeps rows [begin, end) of this chunk (0 <= begin <= end <= size()).
  void narrow(size_t begin, size_t end) {
    begin_ += begin;
    size_ = end - begin;
  }

  // The bars as a vector (for callers that want one; copies a mapped chunk).
  std::vector<Bar> to_vector() && {
    if (!mapped_) {
      if (begin_ == 0 && size_ == owned_.size()) return std::move(owned_);
      return std::vector<Bar>(owned_.begin() + static_cast<std::ptrdiff_t>(begin_),
                              owned_.begin() + static_cast<std::ptrdiff_t>(begin_ + size_));
    }
    std::vector<Bar> out;
    out.reserve(size_);
    for (size_t i = 0; i < size_; ++i) {
      // Built in place from its values: default-constructing each element and
      // overwriting it would zero-fill every bar first.
      const size_t row = begin_ + i;
      const auto word = [&](int c) {
        double v;
        std::memcpy(&v, columns_.values[c] + row * 8, 8);
        return v;
      };
      int64_t t;
      std::memcpy(&t, columns_.ts + row * 8, 8);
      const unsigned f = columns_.flags[row];
      out.emplace_back(t, word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7), word(8),
                       static_cast<BarOrigin>(f & 7u), (f & 8u) != 0);
    }
    return out;
  }

 private:
  std::vector<Bar> owned_;
  std::shared_ptr<const void> keep_alive_;
  BarColumns columns_{};
  size_t begin_ = 0;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace af
