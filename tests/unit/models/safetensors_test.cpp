// The safetensors reader against hand-built files (testing::safetensors_bytes).

#include "models/safetensors.hpp"

#include <gtest/gtest.h>

#include "unit/models/checkpoint_files.hpp"

namespace af::models {
namespace {

using testing::RawTensor;
using testing::safetensors_bytes;

RawTensor u16_tensor(const std::string& dtype, std::vector<int64_t> shape, const std::vector<uint16_t>& bits) {
  RawTensor t{dtype, std::move(shape), std::vector<uint8_t>(bits.size() * 2)};
  std::memcpy(t.bytes.data(), bits.data(), t.bytes.size());
  return t;
}

TEST(Safetensors, ReadsEveryFloatDtype) {
  std::map<std::string, RawTensor> m;
  m["a"] = testing::f32_tensor({2, 2}, {1.5f, -2.0f, 0.25f, 3.0f});
  std::vector<double> d{0.1, -7.0};
  RawTensor f64{"F64", {2}, std::vector<uint8_t>(16)};
  std::memcpy(f64.bytes.data(), d.data(), 16);
  m["b"] = f64;
  // F16: 1.0 = 0x3C00, -2.5 = 0xC100, 2^-24 (smallest subnormal) = 0x0001, 65504 = 0x7BFF
  m["c"] = u16_tensor("F16", {4}, {0x3C00, 0xC100, 0x0001, 0x7BFF});
  // BF16: upper half of the float bits: 1.0 = 0x3F80, -0.5 = 0xBF00
  m["d"] = u16_tensor("BF16", {2}, {0x3F80, 0xBF00});
  auto f = parse_safetensors(safetensors_bytes(m), "t.safetensors");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->tensors.at("a").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(f->tensors.at("a").data, (std::vector<float>{1.5f, -2.0f, 0.25f, 3.0f}));
  EXPECT_EQ(f->tensors.at("b").data, (std::vector<float>{0.1f, -7.0f}));
  EXPECT_EQ(f->tensors.at("c").data, (std::vector<float>{1.0f, -2.5f, 0x1p-24f, 65504.0f}));
  EXPECT_EQ(f->tensors.at("d").data, (std::vector<float>{1.0f, -0.5f}));
}

TEST(Safetensors, MetadataAndEmptyTensor) {
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}},
                           {"e", {{"dtype", "F32"}, {"shape", {0, 3}}, {"data_offsets", {0, 0}}}}};
  auto f = parse_safetensors(testing::safetensors_file(header.dump(), {}), "m.safetensors");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->metadata.at("format"), "pt");
  EXPECT_EQ(f->tensors.at("e").numel(), 0);
}

TEST(Safetensors, RejectsDamage) {
  std::map<std::string, RawTensor> m;
  m["w"] = testing::f32_tensor({3}, {1, 2, 3});
  const auto good = safetensors_bytes(m);
  ASSERT_TRUE(parse_safetensors(good, "x").ok());

  EXPECT_EQ(parse_safetensors({1, 2, 3}, "x").error().message, "x: truncated: 3 bytes, no header length");

  auto long_header = good;
  long_header[0] = 0xFF;
  EXPECT_NE(parse_safetensors(long_header, "x").error().message.find("header length 255 exceeds the file"),
            std::string::npos);

  auto truncated = good;
  truncated.pop_back();
  EXPECT_EQ(parse_safetensors(truncated, "x").error().message,
            "x: tensor 'w': data_offsets [0, 12) outside the data (11 bytes): truncated or corrupt file");

  std::map<std::string, RawTensor> wrong = m;
  wrong["w"].shape = {4};
  EXPECT_EQ(parse_safetensors(safetensors_bytes(wrong), "x").error().message,
            "x: tensor 'w': 12 bytes of data for shape [4] of F32 (expected 16)");

  std::map<std::string, RawTensor> ints;
  ints["i"] = RawTensor{"I64", {1}, std::vector<uint8_t>(8)};
  EXPECT_EQ(parse_safetensors(safetensors_bytes(ints), "x").error().message,
            "x: tensor 'i': unsupported dtype 'I64' (F32, F64, F16 and BF16 are)");

  nlohmann::json overlap = {{"a", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}},
                            {"b", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {4, 12}}}}};
  EXPECT_EQ(parse_safetensors(testing::safetensors_file(overlap.dump(), std::vector<uint8_t>(12)), "x").error().message, "x: tensors overlap in the data section: corrupt file");
}

}  // namespace
}  // namespace af::models
