#include "vision/vision_writer.hpp"

#include <zip.h>

#include <filesystem>
#include <fstream>

#include "common/interval.hpp"
#include "common/number_format.hpp"
#include "common/read_whole_file.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_csv.hpp"

namespace af::vision {
namespace {

namespace fs = std::filesystem;

// 2020-01-01T00:00:00Z, the mtime Vision mirrors here carry; fixed so output is reproducible.
constexpr time_t kFixedMtime = 1577836800;

}  // namespace

VisionWriteOptions futures_dialect() { return VisionWriteOptions{}; }

VisionWriteOptions spot_dialect() {
  VisionWriteOptions o;
  o.market = VisionMarket::kSpot;
  o.header = false;
  return o;
}

std::string format_vision_csv(std::span<const Bar> bars, int64_t interval_ms, const VisionWriteOptions& options) {
  std::string out;
  out.reserve(bars.size() * 110 + 160);
  const char* eol = options.crlf ? "\r\n" : "\n";
  if (options.header) {
    for (size_t i = 0; i < 12; ++i) {
      if (i) out += ',';
      out += kVisionFieldNames[i];
    }
    out += eol;
  }
  const int64_t scale = options.microseconds ? 1000 : 1;
  for (const Bar& b : bars) {
    out += std::to_string(b.ts * scale);
    for (double v : {b.open, b.high, b.low, b.close, b.volume}) {
      out += ',';
      append_double(out, v);
    }
    out += ',';
    out += std::to_string((b.ts + interval_ms) * scale - 1);
    for (double v : {b.quote_volume, b.trades, b.taker_buy_volume, b.taker_buy_quote_volume}) {
      out += ',';
      append_double(out, v);
    }
    out += ",0";
    out += eol;
  }
  return out;
}

Status write_vision_zip(const std::string& zip_path, const std::string& csv_name, std::string_view csv_text,
                        bool checksum) {
  std::error_code ec;
  const fs::path parent = fs::path(zip_path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return make_error(parent.string() + ": cannot create directory: " + ec.message());

  int zerr = 0;
  zip_t* za = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &zerr);
  if (za == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, zerr);
    std::string msg = zip_path + ": cannot create zip: " + zip_error_strerror(&e);
    zip_error_fini(&e);
    return make_error(msg);
  }
  zip_source_t* src = zip_source_buffer(za, csv_text.data(), csv_text.size(), 0);
  zip_int64_t idx = src ? zip_file_add(za, csv_name.c_str(), src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) : -1;
  if (idx < 0) {
    std::string msg = zip_path + ": cannot add entry: " + zip_strerror(za);
    if (src) zip_source_free(src);
    zip_discard(za);
    return make_error(msg);
  }
  zip_file_set_mtime(za, static_cast<zip_uint64_t>(idx), kFixedMtime, 0);
  if (zip_close(za) != 0) {
    std::string msg = zip_path + ": cannot write zip: " + zip_strerror(za);
    zip_discard(za);
    return make_error(msg);
  }
  if (!checksum) {
    fs::remove(zip_path + ".CHECKSUM", ec);  // a stale one would no longer match
    return {};
  }

  auto zip_bytes = read_whole_file(zip_path);
  if (!zip_bytes) return zip_bytes.error();
  std::ofstream sum(zip_path + ".CHECKSUM", std::ios::binary | std::ios::trunc);
  sum << checksum_line(*zip_bytes, fs::path(zip_path).filename().string());
  if (!sum) return make_error(zip_path + ".CHECKSUM: cannot write");
  return {};
}

Result<std::string> write_vision_file(const std::string& root, const std::string& symbol, int64_t interval_ms,
                                      const VisionPeriod& period, std::span<const Bar> bars,
                                      const VisionWriteOptions& options) {
  const std::string interval = interval_name(interval_ms);
  const std::string name = vision_file_name(symbol, interval, period);
  const std::string path = vision_dir(root, options.market, period.monthly(), symbol, interval) + "/" + name;
  const std::string csv_name = name.substr(0, name.size() - 4) + ".csv";
  const std::string text = format_vision_csv(bars, interval_ms, options);
  if (auto st = write_vision_zip(path, csv_name, text, options.checksum); !st) return st.error();
  return path;
}

}  // namespace af::vision
