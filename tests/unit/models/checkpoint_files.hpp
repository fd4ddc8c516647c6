#pragma once
// Test helpers for checkpoint files: golden directories, a small safetensors
// writer (independent of the reader under test), temporary directories.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace af::models::testing {

inline std::filesystem::path source_dir() {
  const char* s = std::getenv("AF_SOURCE_DIR");
  return s ? std::filesystem::path(s) : std::filesystem::path(AF_MODELS_TEST_SOURCE_DIR);
}

inline std::filesystem::path golden_dir() { return source_dir() / "tests" / "golden" / "models"; }

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// One tensor to write: raw little-endian bytes with a dtype and shape.
struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

inline RawTensor f32_tensor(std::vector<int64_t> shape, const std::vector<float>& values) {
  RawTensor t{"F32", std::move(shape), std::vector<uint8_t>(values.size() * 4)};
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

// A file with the given header text followed by `data` (the header length prefixed).
inline std::vector<uint8_t> safetensors_file(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

inline std::vector<uint8_t> safetensors_bytes(const std::map<std::string, RawTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<uint8_t> data;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    const size_t at = data.size();
    data.resize(at + t.bytes.size());
    if (!t.bytes.empty()) std::memcpy(data.data() + at, t.bytes.data(), t.bytes.size());
  }
  return safetensors_file(header.dump(), data);
}

using test::TempDir;

}  // namespace af::models::testing
