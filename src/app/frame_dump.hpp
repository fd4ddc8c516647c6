#pragma once
// FrameDump: `replay --dump FRAME=PATH` writes every row of a frame as it
// completes (warmup rows included): ts (ISO-8601 UTC), symbol, then every column of
// the frame in order; NaN is an empty field. Streaming to the file means a long run
// is not limited by the ring buffer's capacity. Compute thread only.

#include <cstdio>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "frame/frame.hpp"
#include "runtime/symbol_table.hpp"

namespace af::app {

class FrameDump {
 public:
  static Result<std::unique_ptr<FrameDump>> open(const std::string& path, const Frame& frame);
  ~FrameDump();
  FrameDump(const FrameDump&) = delete;
  FrameDump& operator=(const FrameDump&) = delete;

  void write_row(const std::string& symbol, const SymbolSeries& series);
  Status close();
  uint64_t rows() const { return rows_; }

 private:
  FrameDump(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  std::string path_;
  std::FILE* file_;
  std::string line_;
  uint64_t rows_ = 0;
};

}  // namespace af::app
