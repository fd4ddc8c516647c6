#include "models/zip_archive.hpp"

#include <zip.h>

#include <algorithm>

namespace af::models {

namespace {

// torch.save writes a handful of records plus one per tensor storage.
constexpr zip_int64_t kMaxEntries = 1 << 20;

struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string libzip_message(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string msg = zip_error_strerror(&err);
  zip_error_fini(&err);
  return msg;
}

}  // namespace

void ZipArchive::Closer::operator()(struct zip* z) const { zip_discard(z); }

ZipArchive::ZipArchive(std::string path, std::unique_ptr<struct zip, Closer> archive, std::vector<std::string> names)
    : path_(std::move(path)), archive_(std::move(archive)), names_(std::move(names)) {}

Result<ZipArchive> ZipArchive::open(const std::string& path) {
  int code = 0;
  std::unique_ptr<struct zip, Closer> za(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  if (!za) return make_error(path + ": not a readable zip archive (truncated or corrupt?): " + libzip_message(code));
  const zip_int64_t n = zip_get_num_entries(za.get(), 0);
  if (n < 0 || n > kMaxEntries)
    return make_error(path + ": " + std::to_string(n) + " zip entries, more than the " + std::to_string(kMaxEntries) +
                      " a checkpoint can hold");
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(n));
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(za.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    if (!name) return make_error(path + ": zip entry " + std::to_string(i) + " has no name: " + zip_strerror(za.get()));
    names.emplace_back(name);
  }
  return ZipArchive(path, std::move(za), std::move(names));
}

bool ZipArchive::contains(const std::string& name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

namespace {

// The index and stat of entry `name`; `where` names it in messages.
Status stat_entry(zip_t* za, const std::string& name, const std::string& where, zip_int64_t& index, zip_stat_t& st) {
  index = zip_name_locate(za, name.c_str(), ZIP_FL_ENC_RAW);
  if (index < 0) return make_error(where + " is missing");
  zip_stat_init(&st);
  if (zip_stat_index(za, static_cast<zip_uint64_t>(index), 0, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0)
    return make_error(where + ": cannot read its size: " + zip_strerror(za));
  return {};
}

}  // namespace

Result<uint64_t> ZipArchive::declared_size(const std::string& name) const {
  zip_int64_t index = 0;
  zip_stat_t st;
  if (auto s = stat_entry(archive_.get(), name, path_ + ": entry '" + name + "'", index, st); !s.ok()) return s.error();
  return static_cast<uint64_t>(st.size);
}

Result<std::vector<uint8_t>> ZipArchive::read(const std::string& name, uint64_t max_bytes) const {
  const std::string where = path_ + ": entry '" + name + "'";
  zip_int64_t index = 0;
  zip_stat_t st;
  if (auto s = stat_entry(archive_.get(), name, where, index, st); !s.ok()) return s.error();
  if (st.size > max_bytes)
    return make_error(where + " declares " + std::to_string(st.size) + " bytes, more than the limit of " +
                      std::to_string(max_bytes));
  std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(archive_.get(), static_cast<zip_uint64_t>(index), 0));
  if (!file) return make_error(where + ": cannot open: " + zip_strerror(archive_.get()));
  std::vector<uint8_t> bytes(st.size);
  zip_uint64_t got = 0;
  while (got < st.size) {
    const zip_int64_t n = zip_fread(file.get(), bytes.data() + got, st.size - got);
    if (n < 0) return make_error(where + ": corrupt: " + zip_file_strerror(file.get()));
    if (n == 0) break;
    got += static_cast<zip_uint64_t>(n);
  }
  if (got != st.size)
    return make_error(where + ": truncated: " + std::to_string(got) + " of the " + std::to_string(st.size) +
                      " bytes it declares");
  // One more read reaches the end of the entry, where libzip checks the CRC.
  uint8_t extra = 0;
  const zip_int64_t tail = zip_fread(file.get(), &extra, 1);
  if (tail < 0) return make_error(where + ": corrupt: " + zip_file_strerror(file.get()));
  if (tail > 0) return make_error(where + ": holds more than the " + std::to_string(st.size) + " bytes it declares");
  return bytes;
}

}  // namespace af::models
