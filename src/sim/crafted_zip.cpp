#include "sim/crafted_zip.hpp"

#include <array>

namespace af::sim {
namespace {

uint32_t crc32(std::string_view bytes) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFU;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

void put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}
void put64(std::string& out, uint64_t v) {
  put32(out, static_cast<uint32_t>(v & 0xFFFFFFFFU));
  put32(out, static_cast<uint32_t>(v >> 32));
}

}  // namespace

std::string zip_declaring_size(std::string_view entry_name, std::string_view content, uint64_t declared_size) {
  // Raw deflate: one final stored block (content up to 65535 bytes).
  const std::string_view body = content.substr(0, 0xFFFF);
  std::string data;
  data += '\x01';
  put16(data, static_cast<uint32_t>(body.size()));
  put16(data, static_cast<uint32_t>(~body.size() & 0xFFFF));
  data += body;
  const uint32_t crc = crc32(body);
  constexpr uint32_t kZip64 = 0xFFFFFFFFU;  // "see the zip64 extra field"
  constexpr uint32_t kVersion = 45;         // zip64
  constexpr uint32_t kDeflate = 8;
  constexpr uint32_t kDosDate = (44U << 9) | (1U << 5) | 1U;  // 2024-01-01
  auto zip64_extra = [&](std::string& out) {
    put16(out, 0x0001);
    put16(out, 16);
    put64(out, declared_size);
    put64(out, data.size());
  };

  std::string zip;
  put32(zip, 0x04034b50);  // local file header
  put16(zip, kVersion);
  put16(zip, 0);
  put16(zip, kDeflate);
  put16(zip, 0);
  put16(zip, kDosDate);
  put32(zip, crc);
  put32(zip, kZip64);
  put32(zip, kZip64);
  put16(zip, static_cast<uint32_t>(entry_name.size()));
  put16(zip, 20);
  zip += entry_name;
  zip64_extra(zip);
  zip += data;

  const size_t central_at = zip.size();
  put32(zip, 0x02014b50);  // central directory header
  put16(zip, kVersion);
  put16(zip, kVersion);
  put16(zip, 0);
  put16(zip, kDeflate);
  put16(zip, 0);
  put16(zip, kDosDate);
  put32(zip, crc);
  put32(zip, kZip64);
  put32(zip, kZip64);
  put16(zip, static_cast<uint32_t>(entry_name.size()));
  put16(zip, 20);
  put16(zip, 0);  // comment
  put16(zip, 0);  // disk
  put16(zip, 0);  // internal attributes
  put32(zip, 0);  // external attributes
  put32(zip, 0);  // local header offset
  zip += entry_name;
  zip64_extra(zip);
  const size_t central_size = zip.size() - central_at;

  put32(zip, 0x06054b50);  // end of central directory
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, 1);
  put16(zip, 1);
  put32(zip, static_cast<uint32_t>(central_size));
  put32(zip, static_cast<uint32_t>(central_at));
  put16(zip, 0);
  return zip;
}

}  // namespace af::sim
