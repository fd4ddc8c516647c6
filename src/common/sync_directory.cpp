#include "common/sync_directory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace af {

Status sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(dir + ": cannot open the directory to fsync it: " + std::strerror(errno), true);
  Status st;
  if (::fsync(fd) != 0) st = make_error(dir + ": directory fsync failed: " + std::strerror(errno), true);
  ::close(fd);
  return st;
}

Status sync_parent_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return sync_directory(parent.empty() ? std::string(".") : parent.string());
}

}  // namespace af
