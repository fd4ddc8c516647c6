#pragma once
// Vision archive files: a `.zip` holding one kline CSV, with an optional sibling
// `.zip.CHECKSUM` (sha256sum format: 64 hex digits, two spaces, the zip's file
// name, optionally a newline). Reading verifies the checksum when it is present.
// Pure functions over files, any thread.

#include <string>
#include <string_view>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"

namespace af::sources {

// Lower-case hex sha256 of `bytes` (OpenSSL EVP).
std::string sha256_hex(std::string_view bytes);

// The content of a `.CHECKSUM` file for a zip named `zip_name` holding `zip_bytes`.
std::string checksum_line(std::string_view zip_bytes, std::string_view zip_name);

struct VisionCsvFile {
  std::string csv_name;  // the entry's name inside the zip
  std::string text;      // its content
};

// Reads the zip at `zip_path`, verifies it against `zip_path + ".CHECKSUM"` when
// that file exists, and returns its single CSV entry. Errors are one line naming
// the file: "<zip_path>: checksum mismatch ...", "<zip_path>: not a valid zip ...".
Result<VisionCsvFile> read_vision_zip(const std::string& zip_path);

// read_vision_zip + parse_vision_csv; CSV errors name "<zip file name>:<csv name>:<line>".
Result<std::vector<Bar>> read_vision_archive(const std::string& zip_path);

}  // namespace af::sources
