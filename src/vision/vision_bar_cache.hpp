#pragma once
// The decoded-bar cache: the bars of one Vision archive zip, decoded once and
// kept beside it as `<zip>.bars`, a compact binary columnar file that later runs
// memory-map instead of inflating and parsing the CSV again.
//
// File format (version 2, native little-endian; all offsets from the file start):
//   header, 160 bytes:
//     magic "AFBARS\r\n" | u32 version | u32 header bytes (160)
//     u64 archive size | archive sha256 as 64 lower-case hex digits | u64 row count
//     u64 payload bytes | u64 payload checksum
//     the archive's identity when it was hashed: u64 st_dev | u64 st_ino |
//     i64 mtime ns | i64 ctime ns | i64 when the read began, ns (all 0: none)
//     | u64 header checksum (of bytes 0..151)
//   payload, row count * 81 bytes, one column after the other:
//     i64 ts[n] | f64 open[n] high[n] low[n] close[n] volume[n] quote_volume[n]
//     trades[n] taker_buy_volume[n] taker_buy_quote_volume[n] | u8 flags[n]
//     (flags: bits 0-2 the BarOrigin, bit 3 complete)
// A cache file is used only when every field checks out: magic, version, sizes
// (the row count against the file size, checked before any arithmetic that
// could overflow), both checksums, and the archive's current size and sha256
// equal to the recorded ones (a replaced archive invalidates its cache). The
// checksums catch truncation, bit rot and torn writes; the archive's sha256 is
// what binds a cache to its archive. Anything else is rebuilt from the zip with a
// warning naming the file; a cache file is never read as bars unless valid.
// The zip is not read again when stat shows the very file that was hashed,
// unchanged: same device, inode, size, mtime and ctime, and that ctime older than
// the hash by more than any file system's timestamp granularity (2 s), so a
// later change could not have kept it. A cache whose identity cannot be trusted
// yet (built right after its zip was written) has it recorded on a later run.
// Writes go to a unique temp file in the same folder, renamed over the cache
// file: two processes filling the same cache at once each write a complete file
// and the last rename wins. Nothing is fsynced: a file a power loss left empty or
// partial fails its checks and is rebuilt. A folder where
// the cache cannot be written (a read-only mirror: no write permission, a
// read-only file system, or a folder whose mode grants nobody write permission,
// which even root respects) is not an error: the bars are returned, and one
// warning per process says the cache is skipped there.
// Free functions, any thread; the counters are process-wide atomics.

#include <cstdint>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "runtime/bar_chunk.hpp"

namespace af::vision {

inline constexpr uint32_t kBarCacheVersion = 2;
inline constexpr const char* kBarCacheSuffix = ".bars";

// `zip_path` + ".bars".
std::string bar_cache_path(const std::string& zip_path);

// What the cache did in this process (for tests and the replay summary).
struct BarCacheStats {
  uint64_t hits = 0;     // archives served from a valid cache file
  uint64_t written = 0;  // cache files written (first run, or after an invalid one)
  uint64_t invalid = 0;  // cache files found unusable (stale, truncated, corrupt) and rebuilt
  uint64_t skipped = 0;  // cache files that could not be written (read-only folder, full disk)
  uint64_t trusted = 0;    // of the hits, those that trusted the archive's unchanged identity (zip not read)
  uint64_t refreshed = 0;  // valid cache files rewritten to record an identity that can now be trusted
  bool read_only_warned = false;  // the once-per-process warning about a read-only folder was logged
};
BarCacheStats bar_cache_stats();

// The bars of the Vision zip at `zip_path` (as read_vision_archive returns them).
// `use_cache`: serve them from `<zip>.bars` when it is valid for the zip as it is
// now, else decode the zip and (re)write the cache file; false: decode the zip
// and leave any cache file alone (`replay --no-cache`). Errors are those of
// read_vision_archive (the zip's); a cache problem is never an error.
Result<std::vector<Bar>> read_vision_bars(const std::string& zip_path, bool use_cache);

// The same bars as a chunk: on a cache hit it views the mapped cache file's
// columns in place (the mapping lives as long as the chunk or a narrowed copy of
// it), otherwise it owns the decoded vector. Rows in file order, as in the zip.
Result<BarChunk> open_vision_bars(const std::string& zip_path, bool use_cache);

// Writes `bars` as the cache file `cache_path` of an archive of `archive_size`
// bytes hashing to `archive_sha256` (64 lower-case hex digits), atomically.
Status write_bar_cache(const std::string& cache_path, const std::vector<Bar>& bars, uint64_t archive_size,
                       const std::string& archive_sha256);

}  // namespace af::vision
