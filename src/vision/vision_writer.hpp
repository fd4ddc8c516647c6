#pragma once
// Vision writer: writes bars as Binance Vision kline files (zip + .CHECKSUM) in
// the mirror layout. Tests and the synthetic-data generator make their fixtures
// with it; the files read back bit-identical (numbers in shortest round-trip form).
// Pure functions over files, any thread.

#include <cstdint>
#include <span>
#include <string>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "vision/vision_layout.hpp"

namespace af::vision {

struct VisionWriteOptions {
  VisionMarket market = VisionMarket::kFuturesUm;
  bool header = true;         // futures files carry a header row, spot files do not
  bool microseconds = false;  // spot files from 2025-01-01 write µs timestamps
  bool checksum = true;       // write the .CHECKSUM sibling
  bool crlf = false;          // line ending (Binance writes LF)
};

// The defaults of each dialect: futures = header, ms; spot = no header, ms.
VisionWriteOptions futures_dialect();
VisionWriteOptions spot_dialect();

// CSV text of `bars` (close_time = ts + interval - 1).
std::string format_vision_csv(std::span<const Bar> bars, int64_t interval_ms, const VisionWriteOptions& options);

// Writes `csv_text` as the single entry `csv_name` of a zip at `zip_path` (parent
// folders created, fixed mtime so that equal content gives equal bytes), plus
// `zip_path.CHECKSUM` when options.checksum.
Status write_vision_zip(const std::string& zip_path, const std::string& csv_name, std::string_view csv_text,
                        bool checksum);

// Writes one period's file under `root` in the Vision layout; returns its path.
Result<std::string> write_vision_file(const std::string& root, const std::string& symbol, int64_t interval_ms,
                                      const VisionPeriod& period, std::span<const Bar> bars,
                                      const VisionWriteOptions& options);

}  // namespace af::vision
