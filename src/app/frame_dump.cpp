#include "app/frame_dump.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/number_format.hpp"
#include "common/time.hpp"

namespace af::app {

Result<std::unique_ptr<FrameDump>> FrameDump::open(const std::string& path, const Frame& frame) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return make_error("--dump " + frame.name() + "=" + path + ": cannot write: " + std::strerror(errno));
  std::unique_ptr<FrameDump> d(new FrameDump(path, f));
  std::string header = "ts,symbol";
  for (const auto& c : frame.columns()) header += "," + c;
  header += "\n";
  std::fputs(header.c_str(), f);
  return d;
}

FrameDump::~FrameDump() {
  if (file_) std::fclose(file_);
}

void FrameDump::write_row(const std::string& symbol, const SymbolSeries& series) {
  line_.clear();
  line_ += format_iso8601(series.ts(0));
  line_ += ',';
  line_ += symbol;
  const double* row = series.row(0);
  for (size_t c = 0; c < series.columns(); ++c) {
    line_ += ',';
    if (!std::isnan(row[c])) append_double(line_, row[c]);
  }
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), file_);
  ++rows_;
}

Status FrameDump::close() {
  if (!file_) return {};
  const bool bad = std::ferror(file_) != 0;
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (bad || rc != 0) return make_error("--dump " + path_ + ": write failed: " + std::strerror(errno));
  return {};
}

}  // namespace af::app
