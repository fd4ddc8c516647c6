#include "common/read_whole_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace af {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::string> read_whole_file(const std::string& path, uint64_t max_bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return make_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) return make_error(path + ": cannot open: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error(path + ": not a regular file");
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    return make_error(path + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
                      " this reader accepts");
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(f.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(path + ": read error: " + std::strerror(errno));
    }
    if (n == 0) break;  // the file shrank while being read: what is there
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace af
