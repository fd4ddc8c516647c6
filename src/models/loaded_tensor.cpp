#include "models/loaded_tensor.hpp"

#include <bit>
#include <cstring>

namespace af::models {

namespace {

static_assert(std::endian::native == std::endian::little, "big-endian hosts need a byte swap in load_le");

template <class T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal half: value = mant * 2^-24, exact in float
      const float v = static_cast<float>(mant) * 0x1p-24f;
      return sign ? -v : v;
    }
  } else if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / nan
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

float decode_f32(const uint8_t* p) { return load_le<float>(p); }
float decode_f64(const uint8_t* p) { return static_cast<float>(load_le<double>(p)); }
float decode_f16(const uint8_t* p) { return half_to_float(load_le<uint16_t>(p)); }
float decode_bf16(const uint8_t* p) { return std::bit_cast<float>(static_cast<uint32_t>(load_le<uint16_t>(p)) << 16); }

}  // namespace

int64_t LoadedTensor::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F64") return 8;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

ElementDecoder element_decoder(const std::string& dtype) {
  if (dtype == "F32") return decode_f32;
  if (dtype == "F64") return decode_f64;
  if (dtype == "F16") return decode_f16;
  if (dtype == "BF16") return decode_bf16;
  return nullptr;
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace af::models
