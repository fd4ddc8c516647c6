#pragma once
// A tensor as a checkpoint reader hands it to the model loader: its shape and
// its values widened or rounded to float32, plus the element decoders both
// readers (safetensors, torch.save) share, so that the same stored value becomes
// the same float bits whichever file format carried it. No threads.

#include <cstdint>
#include <string>
#include <vector>

namespace af::models {

struct LoadedTensor {
  std::string dtype;           // as stored: "F32", "F64", "F16", "BF16"
  std::vector<int64_t> shape;  // row-major, PyTorch's layout
  std::vector<float> data;     // contiguous, row-major
  int64_t numel() const;
};

// Bytes per element of a stored dtype ("F32" 4, "F64" 8, "F16"/"BF16" 2); 0 for any other name.
int dtype_size(const std::string& dtype);

// Reads one little-endian stored element as float32 (F32 exact, F64 rounded to
// nearest even, F16 and BF16 exact).
using ElementDecoder = float (*)(const uint8_t* p);

// The decoder of a stored dtype; nullptr for a name dtype_size() does not know.
ElementDecoder element_decoder(const std::string& dtype);

// "[4, 3]"
std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace af::models
