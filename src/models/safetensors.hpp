#pragma once
// A reader of the safetensors format (Hugging Face's portable tensor file):
// 8-byte little-endian header length N, N bytes of JSON mapping each tensor name
// to {dtype, shape, data_offsets: [begin, end)} relative to the byte after the
// header, an optional "__metadata__" map of strings, then the raw little-endian
// data. Every offset and size is checked against the file, so a truncated or
// corrupt file is an error, never an out-of-bounds read. Used once at start-up
// by the model loader; no threads.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "models/loaded_tensor.hpp"

namespace af::models {

// All tensors of a file, by name, plus its metadata.
struct SafetensorsFile {
  std::map<std::string, LoadedTensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Parses `bytes` (the whole file); `where` names the file in error messages.
Result<SafetensorsFile> parse_safetensors(const std::vector<uint8_t>& bytes, const std::string& where);

// Reads and parses the file at `path`.
Result<SafetensorsFile> read_safetensors(const std::string& path);

}  // namespace af::models
