#pragma once
// A read-only zip archive on disk (libzip) whose entries are read with a size
// bound: an entry that declares more bytes than the caller allows is refused
// before anything is allocated, and one whose data ends before its declared size
// (or fails its CRC) is an error, never a short buffer. Used at start-up by the
// torch.save reader; one thread at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"

struct zip;

namespace af::models {

class ZipArchive {
 public:
  // Opens `path`; a truncated or corrupt archive (central directory, local
  // headers that disagree with it) is an error naming the file.
  static Result<ZipArchive> open(const std::string& path);

  const std::string& path() const { return path_; }
  // Entry names in the order of the central directory.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const;

  // The uncompressed size entry `name` declares (nothing is read).
  Result<uint64_t> declared_size(const std::string& name) const;

  // The bytes of entry `name`, at most `max_bytes` of them.
  Result<std::vector<uint8_t>> read(const std::string& name, uint64_t max_bytes) const;

 private:
  struct Closer {
    void operator()(struct zip* z) const;
  };
  ZipArchive(std::string path, std::unique_ptr<struct zip, Closer> archive, std::vector<std::string> names);

  std::string path_;
  std::unique_ptr<struct zip, Closer> archive_;
  std::vector<std::string> names_;
};

}  // namespace af::models
