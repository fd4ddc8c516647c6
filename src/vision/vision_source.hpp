#pragma once
// VisionSource: the replay DataSource over a local Binance Vision mirror. For one
// market and interval it reads monthly files, and daily files for days no monthly
// file covers, verified against their .CHECKSUM, each through the decoded-bar
// cache (vision_bar_cache.hpp) unless `bar_cache` is false. Owned by the replay
// driver; compute thread. Each call lists and reads files; the one thing kept
// between calls is the file earliest() read (at most one per symbol), until the
// history call that reads it next.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/data_source.hpp"
#include "vision/vision_layout.hpp"

namespace af::vision {

class VisionSource final : public DataSource {
 public:
  // `root` holds `data/<market>/...` (a mirror of data.binance.vision); a root
  // that directly holds `<market>/...` is accepted too.
  // `bar_cache`: read and fill `<zip>.bars` beside each archive (false: `replay --no-cache`).
  VisionSource(std::string root, VisionMarket market, int64_t interval_ms, bool bar_cache = true);

  // Bars with ts in [from, to), sorted, deduplicated (same ts twice: identical ->
  // one; different -> the first file's row wins, logged), origin kArchive. A
  // period without a file is a real gap. No file at all for the symbol -> error
  // naming the folders searched.
  Result<std::vector<Bar>> history(const std::string& symbol, int64_t from, int64_t to) override;
  // The same bars; a window inside one file (the replay driver's month) is
  // viewed in place in that file's mapped cache when it has one.
  Result<BarChunk> history_chunk(const std::string& symbol, int64_t from, int64_t to) override;

  // ts of the first bar of the earliest file; nullopt when there is no file.
  Result<std::optional<int64_t>> earliest(const std::string& symbol) override;
  // The end of the latest file's period (the file names say it, nothing is read).
  std::optional<int64_t> coverage_end(const std::string& symbol) override;

 private:
  struct FileRef {
    VisionPeriod period;
    std::string path;
  };
  // Every file of the symbol: monthly files, then daily files not inside a
  // monthly file's month; each group sorted by period.
  std::vector<FileRef> list_files(const std::string& symbol) const;
  std::string dir(const std::string& symbol, bool monthly) const;
  Error no_files(const std::string& symbol) const;
  // The bars of the file at `path`: the chunk earliest() kept, else read.
  Result<BarChunk> open_file(const std::string& path);
  // Sorts by ts (stable) and keeps the first row of each ts, logging conflicts.
  void sort_and_dedup(const std::string& symbol, std::vector<Bar>& bars) const;

  std::string root_;
  VisionMarket market_;
  int64_t interval_ms_;
  std::string interval_;
  bool bar_cache_;
  bool data_root_override_ = false;  // root_ is the `data/` folder itself
  std::map<std::string, BarChunk> opened_;  // by path: files earliest() read, not yet asked for again
};

}  // namespace af::vision
