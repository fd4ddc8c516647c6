#include "models/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>

namespace af::models {

namespace {

// The header is JSON of a few KiB; anything near this is not a safetensors file.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

}  // namespace

Result<SafetensorsFile> parse_safetensors(const std::vector<uint8_t>& bytes, const std::string& where) {
  if (bytes.size() < 8)
    return make_error(where + ": truncated: " + std::to_string(bytes.size()) + " bytes, no header length");
  uint64_t header_len = 0;  // little-endian; the element decoders assert a little-endian host
  std::memcpy(&header_len, bytes.data(), sizeof header_len);
  if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8)
    return make_error(where + ": header length " + std::to_string(header_len) + " exceeds the file (" +
                      std::to_string(bytes.size()) + " bytes): truncated or not a safetensors file");
  const char* hp = reinterpret_cast<const char*>(bytes.data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(hp, hp + header_len);
  } catch (const nlohmann::json::exception& e) {
    return make_error(where + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) return make_error(where + ": header is not a JSON object");
  const uint8_t* data = bytes.data() + 8 + header_len;
  const uint64_t data_len = bytes.size() - 8 - header_len;

  SafetensorsFile out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) return make_error(where + ": __metadata__ is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m)
        if (m.value().is_string()) out.metadata[m.key()] = m.value().get<std::string>();
      continue;
    }
    const std::string at = where + ": tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      return make_error(at + ": entry needs dtype, shape and data_offsets");
    const auto& jd = entry["dtype"];
    const auto& js = entry["shape"];
    const auto& jo = entry["data_offsets"];
    if (!jd.is_string()) return make_error(at + ": dtype is not a string");
    LoadedTensor t;
    t.dtype = jd.get<std::string>();
    const int esize = dtype_size(t.dtype);
    if (esize == 0) return make_error(at + ": unsupported dtype '" + t.dtype + "' (F32, F64, F16 and BF16 are)");
    if (!js.is_array()) return make_error(at + ": shape is not an array");
    uint64_t numel = 1;
    for (const auto& d : js) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (1ull << 40))
        return make_error(at + ": shape has a bad dimension " + d.dump());
      t.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
      numel *= d.get<uint64_t>();
      if (numel > (1ull << 40)) return make_error(at + ": shape too large");
    }
    if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned())
      return make_error(at + ": data_offsets must be two unsigned integers");
    const uint64_t begin = jo[0].get<uint64_t>();
    const uint64_t end = jo[1].get<uint64_t>();
    if (begin > end || end > data_len)
      return make_error(at + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                        ") outside the data (" + std::to_string(data_len) + " bytes): truncated or corrupt file");
    if (end - begin != numel * static_cast<uint64_t>(esize))
      return make_error(at + ": " + std::to_string(end - begin) + " bytes of data for shape " +
                        shape_to_string(t.shape) + " of " + t.dtype + " (expected " +
                        std::to_string(numel * static_cast<uint64_t>(esize)) + ")");
    ranges.emplace_back(begin, end);
    t.data.resize(numel);
    const uint8_t* p = data + begin;
    const ElementDecoder decode = element_decoder(t.dtype);
    for (uint64_t i = 0; i < numel; ++i) t.data[i] = decode(p + static_cast<uint64_t>(esize) * i);
    out.tensors.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      return make_error(where + ": tensors overlap in the data section: corrupt file");
  return out;
}

Result<SafetensorsFile> read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(path + ": read error");
  return parse_safetensors(bytes, path);
}

}  // namespace af::models
