#pragma once
// Vision archive files: a `.zip` holding one kline CSV, with an optional sibling
// `.zip.CHECKSUM` (sha256sum format: 64 hex digits, two spaces, the zip's file
// name, optionally a newline). Reading verifies the checksum when it is present.
// Pure functions over files, any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"

namespace af::vision {

// Lower-case hex sha256 of `bytes` (OpenSSL EVP).
std::string sha256_hex(std::string_view bytes);

// The content of a `.CHECKSUM` file for a zip named `zip_name` holding `zip_bytes`.
std::string checksum_line(std::string_view zip_bytes, std::string_view zip_name);

struct VisionCsvFile {
  std::string csv_name;  // the entry's name inside the zip
  std::string text;      // its content
};

// The most a Vision zip's CSV entry may expand to, from the file's name: 256 bytes
// (over twice a kline row's ~110) per bar of the period and interval the name says,
// plus 4 KiB ("BTCUSDT-1m-2024-01.zip": 44,640 bars, 11.4 MB; the real file is
// ~3 MB; a monthly 1s file: 686 MB), or 64 MiB for a name that is not
// "SYM-INT-YYYY-MM[-DD].zip". A bad archive cannot make the reader allocate more.
inline constexpr uint64_t kVisionRowByteBound = 256;
inline constexpr uint64_t kVisionUnnamedByteBound = 64ULL << 20;
uint64_t vision_csv_byte_bound(std::string_view zip_name);

// A zip file's bytes as read, with their lower-case hex sha256 (hashed once, used
// for the .CHECKSUM check and by the bar cache to bind a cache file to them).
struct VisionZipBytes {
  std::string bytes;
  std::string sha256;
};
Result<VisionZipBytes> load_vision_zip(const std::string& zip_path);

// Checks `sha256` (of the zip's bytes) against `zip_path + ".CHECKSUM"` when that
// file exists; errors as read_vision_zip's.
Status verify_vision_checksum(const std::string& zip_path, const std::string& sha256);

// Reads the zip at `zip_path`, verifies it against `zip_path + ".CHECKSUM"` when
// that file exists, and returns its single CSV entry, refusing an entry that
// declares or expands to more than vision_csv_byte_bound(file name) before any
// allocation. Errors are one line naming the file: "<zip_path>: checksum mismatch
// ...", "<zip_path>: not a valid zip ...", "<zip_path>: entry '<csv>' declares N
// bytes, above the bound of M for this file".
Result<VisionCsvFile> read_vision_zip(const std::string& zip_path);

// The same over bytes already loaded from `zip_path` (which names the file in errors).
Result<VisionCsvFile> read_vision_zip(const std::string& zip_path, const VisionZipBytes& zip);

// read_vision_zip + parse_vision_csv; CSV errors name "<zip file name>:<csv name>:<line>".
Result<std::vector<Bar>> read_vision_archive(const std::string& zip_path);
Result<std::vector<Bar>> read_vision_archive(const std::string& zip_path, const VisionZipBytes& zip);

}  // namespace af::vision
