#include "vision/vision_archive.hpp"

#include <libdeflate.h>
#include <openssl/evp.h>
#include <zip.h>

#include <cctype>
#include <filesystem>
#include <memory>

#include "common/interval.hpp"
#include "common/read_whole_file.hpp"
#include "vision/vision_csv.hpp"
#include "vision/vision_layout.hpp"

namespace af::vision {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Checks the zip's sha256 (`actual`) against the CHECKSUM file's text.
Status verify_checksum(const std::string& zip_path, const std::string& actual, std::string_view sum_text) {
  const std::string sum_path = zip_path + ".CHECKSUM";
  while (!sum_text.empty() && (sum_text.back() == '\n' || sum_text.back() == '\r' || sum_text.back() == ' ')) {
    sum_text.remove_suffix(1);
  }
  const auto sep = sum_text.find("  ");
  bool hex_ok = sep == 64;
  for (size_t i = 0; hex_ok && i < 64; ++i) hex_ok = std::isxdigit(static_cast<unsigned char>(sum_text[i])) != 0;
  if (!hex_ok) {
    return make_error(sum_path + ": malformed checksum file (expected '<64 hex>  <file name>')");
  }
  const std::string_view name = sum_text.substr(sep + 2);
  const std::string zip_name = fs::path(zip_path).filename().string();
  if (name != zip_name) {
    return make_error(sum_path + ": names '" + std::string(name) + "', expected '" + zip_name + "'");
  }
  const std::string expected = lower(sum_text.substr(0, 64));
  if (expected != actual) {
    return make_error(zip_path + ": checksum mismatch: .CHECKSUM says " + expected + ", file hashes to " + actual);
  }
  return {};
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// Inflates a deflated entry with libdeflate, about twice as fast as zlib's
// streaming inflate that zip_fread uses (inflating was a quarter of a cold
// replay's time). libzip still parses and checks the archive's structure and
// hands over the raw compressed bytes; the declared size, the CRC-32 and the end
// of the stream are checked here as zip_fread would.
Status inflate_entry(zip_t* za, const zip_stat_t& st, const std::string& zip_path, VisionCsvFile& file) {
  const std::string entry = "zip entry '" + file.csv_name + "'";
  std::unique_ptr<zip_file_t, ZipFileCloser> raw(zip_fopen_index(za, 0, ZIP_FL_COMPRESSED));
  if (!raw) return make_error(zip_path + ": cannot open entry: " + zip_strerror(za));
  // The compressed size is bounded by the archive, which is in memory already.
  std::string packed(st.comp_size, '\0');
  zip_uint64_t got = 0;
  while (got < st.comp_size) {
    const zip_int64_t n = zip_fread(raw.get(), packed.data() + got, st.comp_size - got);
    if (n < 0) return make_error(zip_path + ": corrupt " + entry + ": " + zip_file_strerror(raw.get()));
    if (n == 0) break;
    got += static_cast<zip_uint64_t>(n);
  }
  if (got != st.comp_size) return make_error(zip_path + ": corrupt " + entry + ": truncated");
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorFree> inflater(libdeflate_alloc_decompressor());
  if (!inflater) return make_error(zip_path + ": cannot allocate a decompressor");
  file.text.resize(st.size);
  switch (libdeflate_deflate_decompress(inflater.get(), packed.data(), packed.size(), file.text.data(), st.size,
                                        nullptr)) {
    case LIBDEFLATE_SUCCESS: break;
    case LIBDEFLATE_SHORT_OUTPUT: return make_error(zip_path + ": corrupt " + entry + ": truncated");
    case LIBDEFLATE_INSUFFICIENT_SPACE:
      return make_error(zip_path + ": entry '" + file.csv_name + "' expands past its declared " +
                        std::to_string(st.size) + " bytes");
    default: return make_error(zip_path + ": corrupt " + entry + ": invalid compressed data");
  }
  if (libdeflate_crc32(0, file.text.data(), file.text.size()) != st.crc) {
    return make_error(zip_path + ": corrupt " + entry + ": CRC error");
  }
  return {};
}

}  // namespace

uint64_t vision_csv_byte_bound(std::string_view zip_name) {
  // SYM-INT-YYYY-MM-DD.zip or SYM-INT-YYYY-MM.zip (symbols and intervals hold no '-').
  if (!zip_name.ends_with(".zip")) return kVisionUnnamedByteBound;
  const std::string_view stem = zip_name.substr(0, zip_name.size() - 4);
  for (const size_t date_len : {size_t{10}, size_t{7}}) {
    if (stem.size() <= date_len + 1 || stem[stem.size() - date_len - 1] != '-') continue;
    const std::string_view head = stem.substr(0, stem.size() - date_len - 1);
    const size_t dash = head.find('-');
    if (dash == std::string_view::npos) continue;
    const std::string symbol(head.substr(0, dash));
    const std::string interval(head.substr(dash + 1));
    const auto iv = parse_interval(interval);
    const auto period = parse_vision_file_name(zip_name, symbol, interval);
    if (!iv || *iv <= 0 || !period) continue;
    const uint64_t bars = static_cast<uint64_t>((period->end_ms() - period->start_ms()) / *iv) + 1;
    return bars * kVisionRowByteBound + 4096;
  }
  return kVisionUnnamedByteBound;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string checksum_line(std::string_view zip_bytes, std::string_view zip_name) {
  return sha256_hex(zip_bytes) + "  " + std::string(zip_name) + "\n";
}

Result<VisionZipBytes> load_vision_zip(const std::string& zip_path) {
  auto bytes = read_whole_file(zip_path);
  if (!bytes) return bytes.error();
  VisionZipBytes zip;
  zip.bytes = std::move(bytes).value();
  zip.sha256 = sha256_hex(zip.bytes);
  return zip;
}

Status verify_vision_checksum(const std::string& zip_path, const std::string& sha256) {
  const std::string sum_path = zip_path + ".CHECKSUM";
  std::error_code ec;
  if (!fs::exists(sum_path, ec)) return {};
  auto sum = read_whole_file(sum_path);
  if (!sum) return sum.error();
  return verify_checksum(zip_path, sha256, *sum);
}

Result<VisionCsvFile> read_vision_zip(const std::string& zip_path) {
  auto zip = load_vision_zip(zip_path);
  if (!zip) return zip.error();
  return read_vision_zip(zip_path, *zip);
}

Result<VisionCsvFile> read_vision_zip(const std::string& zip_path, const VisionZipBytes& zip) {
  if (auto st = verify_vision_checksum(zip_path, zip.sha256); !st) return st.error();
  const std::string* bytes = &zip.bytes;

  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_buffer_create(bytes->data(), bytes->size(), 0, &zerr);
  if (src == nullptr) {
    std::string msg = zip_path + ": cannot read zip: " + zip_error_strerror(&zerr);
    zip_error_fini(&zerr);
    return make_error(msg);
  }
  std::unique_ptr<zip_t, ZipCloser> za(zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr));
  if (!za) {
    std::string msg = zip_path + ": not a valid zip: " + zip_error_strerror(&zerr);
    zip_source_free(src);
    zip_error_fini(&zerr);
    return make_error(msg);
  }
  zip_error_fini(&zerr);
  const zip_int64_t entries = zip_get_num_entries(za.get(), 0);
  if (entries != 1) {
    return make_error(zip_path + ": expected one CSV entry, found " + std::to_string(entries));
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(za.get(), 0, 0, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0) {
    return make_error(zip_path + ": cannot stat entry: " + zip_strerror(za.get()));
  }
  VisionCsvFile file;
  file.csv_name = (st.valid & ZIP_STAT_NAME) ? st.name : "";
  // Checked before anything is allocated: the declared size is the archive's word.
  const uint64_t bound = vision_csv_byte_bound(fs::path(zip_path).filename().string());
  if (st.size > bound) {
    return make_error(zip_path + ": entry '" + file.csv_name + "' declares " + std::to_string(st.size) +
                      " bytes, above the bound of " + std::to_string(bound) + " for this file");
  }
  const zip_uint64_t needed = ZIP_STAT_COMP_METHOD | ZIP_STAT_COMP_SIZE | ZIP_STAT_CRC;
  if ((st.valid & needed) == needed && st.comp_method == ZIP_CM_DEFLATE) {
    if (Status s = inflate_entry(za.get(), st, zip_path, file); !s) return s.error();
    return file;
  }
  std::unique_ptr<zip_file_t, ZipFileCloser> zf(zip_fopen_index(za.get(), 0, 0));
  if (!zf) return make_error(zip_path + ": cannot open entry: " + zip_strerror(za.get()));
  file.text.resize(st.size);
  zip_uint64_t got = 0;
  while (got < st.size) {
    const zip_int64_t n = zip_fread(zf.get(), file.text.data() + got, st.size - got);
    if (n < 0) {
      return make_error(zip_path + ": corrupt zip entry '" + file.csv_name + "': " + zip_file_strerror(zf.get()));
    }
    if (n == 0) break;
    got += static_cast<zip_uint64_t>(n);
  }
  if (got != st.size) {
    return make_error(zip_path + ": corrupt zip entry '" + file.csv_name + "': truncated");
  }
  // zip_fread reports a CRC mismatch only on the read that reaches the end; one
  // more read makes sure a corrupt entry cannot slip through.
  // It also catches an entry that expands past its declared size.
  char extra;
  const zip_int64_t more = zip_fread(zf.get(), &extra, 1);
  if (more < 0) {
    return make_error(zip_path + ": corrupt zip entry '" + file.csv_name + "': " + zip_file_strerror(zf.get()));
  }
  if (more > 0) {
    return make_error(zip_path + ": entry '" + file.csv_name + "' expands past its declared " +
                      std::to_string(st.size) + " bytes");
  }
  return file;
}

Result<std::vector<Bar>> read_vision_archive(const std::string& zip_path) {
  auto zip = load_vision_zip(zip_path);
  if (!zip) return zip.error();
  return read_vision_archive(zip_path, *zip);
}

Result<std::vector<Bar>> read_vision_archive(const std::string& zip_path, const VisionZipBytes& zip) {
  auto file = read_vision_zip(zip_path, zip);
  if (!file) return file.error();
  const std::string place = fs::path(zip_path).filename().string() + ":" + file->csv_name;
  return parse_vision_csv(file->text, place);
}

}  // namespace af::vision
