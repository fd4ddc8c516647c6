#include "vision/vision_bar_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "common/log.hpp"
#include "vision/vision_archive.hpp"

namespace af::vision {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'A', 'F', 'B', 'A', 'R', 'S', '\r', '\n'};
constexpr size_t kShaHex = 64;
constexpr uint64_t kColumns = 10;  // ts and the nine values, 8 bytes each
constexpr uint64_t kRowBytes = kColumns * 8 + 1;  // + the flags byte

// The header as laid out on disk (no padding: every field is at its natural alignment).
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t archive_size;
  char archive_sha256[kShaHex];
  uint64_t rows;
  uint64_t payload_bytes;
  uint64_t payload_checksum;
  // The archive as stat saw it before and after it was read and hashed (all zero
  // when it changed during the read), and when that read began.
  uint64_t archive_dev;
  uint64_t archive_ino;
  int64_t archive_mtime_ns;
  int64_t archive_ctime_ns;
  int64_t hashed_at_ns;
  uint64_t header_checksum;  // of every byte before this field
};
static_assert(sizeof(Header) == 160, "the on-disk header is 160 bytes");
constexpr size_t kHeaderBytes = sizeof(Header);
constexpr size_t kHeaderChecked = offsetof(Header, header_checksum);

// A change to a file gives it a ctime of the time of the change, to the file
// system's timestamp granularity (a kernel tick on ext4, up to 2 s elsewhere). So
// a zip whose ctime was more than this older than the moment it was hashed, and
// whose identity is unchanged since, still holds the bytes that were hashed.
constexpr int64_t kTrustAfterNs = 2'000'000'000;

// What stat says about an archive: equal identities (with a ctime that cannot
// hide a change, see kTrustAfterNs) mean the same file with the same bytes.
struct ArchiveIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const ArchiveIdentity&) const = default;
};

std::optional<ArchiveIdentity> stat_identity(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino == 0) return std::nullopt;
  return ArchiveIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                         static_cast<uint64_t>(st.st_size),
                         int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                         int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec};
}

int64_t wall_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The archive as it was read and hashed: its identity, when it held still
// during the read, and when the read began.
struct HashedArchive {
  std::optional<ArchiveIdentity> identity;
  int64_t hashed_at_ns = 0;
  // Whether this identity alone can later stand for the bytes hashed.
  bool trustworthy() const { return identity && identity->ctime_ns + kTrustAfterNs < hashed_at_ns; }
};

ArchiveIdentity recorded_identity(const Header& h) {
  return {h.archive_dev, h.archive_ino, h.archive_size, h.archive_mtime_ns, h.archive_ctime_ns};
}

bool header_trusts(const Header& h, const std::optional<ArchiveIdentity>& now) {
  return now && h.archive_ino != 0 && recorded_identity(h) == *now &&
         h.archive_ctime_ns + kTrustAfterNs < h.hashed_at_ns;
}

std::atomic<uint64_t> g_hits{0}, g_trusted{0}, g_refreshed{0}, g_written{0}, g_invalid{0}, g_skipped{0};
std::atomic<bool> g_unwritable_warned{false};

uint64_t mix(uint64_t h) {  // a 64-bit finaliser: every input bit reaches every output bit
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// A fast corruption check (not a defence against an adversary: the archive's
// sha256 binds a cache file to its archive). Four independent lanes over 8-byte
// words, each step a bijection of the lane given the word, so any change confined
// to one word always changes its lane; the lanes and the length are mixed at the end.
uint64_t payload_checksum(const unsigned char* p, uint64_t n) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t lane[4] = {1, 2, 3, 4};
  uint64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * k, 8);
      lane[k] = (lane[k] ^ w) * kMul;
      lane[k] ^= lane[k] >> 29;
    }
  }
  uint64_t tail = 0;
  for (int shift = 0; i < n; ++i, shift += 8) {
    tail ^= static_cast<uint64_t>(p[i]) << (shift % 64);
    if (shift % 64 == 56) tail = mix(tail);
  }
  uint64_t h = mix(n);
  for (uint64_t l : lane) h = mix(h ^ l);
  return mix(h ^ tail);
}

uint64_t header_checksum(const Header& h) {
  return payload_checksum(reinterpret_cast<const unsigned char*>(&h), kHeaderChecked);
}

// A read-only mapping of a cache file, released with the last chunk viewing it.
struct Mapping {
  void* addr = MAP_FAILED;
  size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (addr != MAP_FAILED) ::munmap(addr, size);
  }
};

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

enum class Lookup { kHit, kMissing, kInvalid };

// A cache file mapped, its header checked (magic, version, checksum, sizes) but
// not yet its payload nor its archive.
struct MappedCache {
  std::shared_ptr<Mapping> map;
  Header header{};
};

// Maps the cache file and checks its header; kInvalid sets `why` to a reason for
// the warning.
Lookup map_cache(const std::string& path, MappedCache& out, std::string& why) {
  FdCloser fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) {
    if (errno == ENOENT) return Lookup::kMissing;
    why = std::string("cannot open: ") + std::strerror(errno);
    return Lookup::kInvalid;
  }
  struct stat st{};
  if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a readable regular file";
    return Lookup::kInvalid;
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < kHeaderBytes) {
    why = "truncated: " + std::to_string(file_size) + " bytes, less than the " + std::to_string(kHeaderBytes) +
          "-byte header";
    return Lookup::kInvalid;
  }
  auto map = std::make_shared<Mapping>();
  map->size = static_cast<size_t>(file_size);
  // MAP_POPULATE: every page is read below (the checksum) and again by the
  // replay; mapping them all in one call is cheaper than a fault per few pages.
  map->addr = ::mmap(nullptr, map->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.fd, 0);
  if (map->addr == MAP_FAILED) {
    why = std::string("cannot map: ") + std::strerror(errno);
    return Lookup::kInvalid;
  }
  Header& h = out.header;
  std::memcpy(&h, map->addr, kHeaderBytes);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    why = "not a bar cache file (bad magic)";
    return Lookup::kInvalid;
  }
  if (h.version != kBarCacheVersion || h.header_bytes != kHeaderBytes) {
    why = "format version " + std::to_string(h.version) + " (header " + std::to_string(h.header_bytes) +
          " bytes), this build reads version " + std::to_string(kBarCacheVersion);
    return Lookup::kInvalid;
  }
  if (h.header_checksum != header_checksum(h)) {
    why = "corrupt header (checksum mismatch)";
    return Lookup::kInvalid;
  }
  // The row count is the file's word: bounded by what the file can hold before
  // it is multiplied by anything.
  const uint64_t room = file_size - kHeaderBytes;
  if (h.rows > room / kRowBytes || h.payload_bytes != h.rows * kRowBytes || h.payload_bytes != room) {
    why = "truncated or padded: the header says " + std::to_string(h.rows) + " rows (" +
          std::to_string(h.payload_bytes) + " payload bytes), the file holds " + std::to_string(room) +
          " payload bytes";
    return Lookup::kInvalid;
  }
  out.map = std::move(map);
  return Lookup::kHit;
}

// Whether the mapped cache was built from an archive of `size` bytes hashing to `sha256`.
bool bound_to(const MappedCache& c, uint64_t size, const std::string& sha256, std::string& why) {
  const Header& h = c.header;
  if (h.archive_size == size && std::string_view(h.archive_sha256, kShaHex) == sha256) return true;
  why = "stale: built for an archive of " + std::to_string(h.archive_size) + " bytes with sha256 " +
        std::string(h.archive_sha256, kShaHex) + ", the archive now has " + std::to_string(size) +
        " bytes with sha256 " + sha256;
  return false;
}

// Checks the payload and views its rows in `chunk`.
Lookup view_rows(const MappedCache& c, BarChunk& chunk, std::string& why) {
  const Header& h = c.header;
  const unsigned char* payload = static_cast<const unsigned char*>(c.map->addr) + kHeaderBytes;
  if (payload_checksum(payload, h.payload_bytes) != h.payload_checksum) {
    why = "corrupt payload (checksum mismatch)";
    return Lookup::kInvalid;
  }
  const uint64_t n = h.rows;
  BarColumns cols;
  cols.ts = payload;
  for (uint64_t col = 0; col < 9; ++col) cols.values[col] = payload + (col + 1) * n * 8;
  cols.flags = payload + kColumns * n * 8;
  // Every flags byte is checked here, once, so that a chunk never holds an
  // origin outside BarOrigin.
  for (uint64_t i = 0; i < n; ++i) {
    const unsigned f = cols.flags[i];
    if ((f & 7u) > static_cast<unsigned>(BarOrigin::kDerived) || (f >> 4) != 0) {
      why = "corrupt payload (bad flags byte at row " + std::to_string(i) + ")";
      return Lookup::kInvalid;
    }
  }
  chunk = BarChunk(std::shared_ptr<const void>(c.map), cols, static_cast<size_t>(n));
  return Lookup::kHit;
}

// The cache file's bytes for `bars` of an archive of `size` bytes hashing to `sha256`.
std::string encode(const std::vector<Bar>& bars, uint64_t size, const std::string& sha256,
                   const HashedArchive& hashed) {
  const uint64_t n = bars.size();
  std::string out(kHeaderBytes + n * kRowBytes, '\0');
  auto* payload = reinterpret_cast<unsigned char*>(out.data() + kHeaderBytes);
  for (uint64_t i = 0; i < n; ++i) {
    const Bar& b = bars[i];
    std::memcpy(payload + i * 8, &b.ts, 8);
    const auto values = b.values();
    for (uint64_t v = 0; v < 9; ++v) std::memcpy(payload + ((v + 1) * n + i) * 8, &values[v], 8);
    payload[kColumns * n * 8 + i] =
        static_cast<unsigned char>(static_cast<unsigned>(b.origin) | (b.complete ? 8u : 0u));
  }
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kBarCacheVersion;
  h.header_bytes = kHeaderBytes;
  h.archive_size = size;
  std::memcpy(h.archive_sha256, sha256.data(), kShaHex);
  h.rows = n;
  h.payload_bytes = n * kRowBytes;
  h.payload_checksum = payload_checksum(payload, h.payload_bytes);
  if (hashed.trustworthy()) {  // otherwise all zero: nothing a later run could trust
    h.archive_dev = hashed.identity->dev;
    h.archive_ino = hashed.identity->ino;
    h.archive_mtime_ns = hashed.identity->mtime_ns;
    h.archive_ctime_ns = hashed.identity->ctime_ns;
    h.hashed_at_ns = hashed.hashed_at_ns;
  }
  h.header_checksum = header_checksum(h);
  std::memcpy(out.data(), &h, kHeaderBytes);
  return out;
}

// Writes `bytes` to `path` atomically: a unique temp file beside it, renamed over
// it, so a reader sees the old file or the new one whole. Not fsynced: the cache
// is derived data checked on every read, so a file a power loss left empty or
// partial is rebuilt with a warning, never read as bars; the fsyncs were a tenth
// of a cold replay's wall time. `errno_out` receives the failing call's errno.
Status write_atomically(const std::string& path, const std::string& bytes, int& errno_out) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  auto fail = [&](const char* what) {
    errno_out = errno;
    std::string msg = std::string(what) + " " + tmp + ": " + std::strerror(errno_out);
    ::unlink(tmp.c_str());
    return make_error(msg);
  };
  FdCloser fd{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
  if (fd.fd < 0) {
    errno_out = errno;
    return make_error("cannot create " + tmp + ": " + std::strerror(errno_out));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd.fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<size_t>(w);
  }
  if (::close(fd.fd) != 0) {
    fd.fd = -1;
    return fail("cannot close");
  }
  fd.fd = -1;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename");
  return {};
}

// A folder whose mode grants nobody write permission is read-only for the cache
// even to root (who could write it anyway): a shared, read-only mirror stays as it is.
bool marked_read_only(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  struct stat st{};
  return ::stat(dir.c_str(), &st) == 0 && (st.st_mode & 0222) == 0;
}

// Writes the cache file; `refresh`: the bars are those of a valid cache file,
// rewritten only to record an archive identity that can now be trusted.
void store(const std::string& path, const std::vector<Bar>& bars, uint64_t size, const std::string& sha256,
           const HashedArchive& hashed, bool refresh = false) {
  int err = 0;
  Status s = marked_read_only(path) ? Status(make_error("read-only folder")) : Status();
  if (!s) err = EACCES;
  else s = write_atomically(path, encode(bars, size, sha256, hashed), err);
  if (s) {
    (refresh ? g_refreshed : g_written).fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_skipped.fetch_add(1, std::memory_order_relaxed);
  if (err == EACCES || err == EROFS || err == EPERM) {
    // A read-only mirror: said once, then every archive is decoded as without a cache.
    if (!g_unwritable_warned.exchange(true)) {
      logger("sources")->warn("vision bar cache: cannot write beside {} ({}): the decoded-bar cache is skipped "
                              "for read-only folders, their archives are decoded on every run",
                              fs::path(path).parent_path().string(), std::strerror(err));
    }
    return;
  }
  static RateLimiter limiter(10, 60'000);
  uint64_t suppressed = 0;
  if (limiter.allow(suppressed)) {
    logger("sources")->warn("vision bar cache: {} not written: {} (suppressed={})", path, s.error().message,
                            suppressed);
  }
}

}  // namespace

std::string bar_cache_path(const std::string& zip_path) { return zip_path + kBarCacheSuffix; }

Status write_bar_cache(const std::string& cache_path, const std::vector<Bar>& bars, uint64_t archive_size,
                       const std::string& archive_sha256) {
  if (archive_sha256.size() != kShaHex) return make_error(cache_path + ": an archive sha256 has 64 hex digits");
  int err = 0;
  return write_atomically(cache_path, encode(bars, archive_size, archive_sha256, HashedArchive{}), err);
}

BarCacheStats bar_cache_stats() {
  return BarCacheStats{g_hits.load(),    g_written.load(),   g_invalid.load(),         g_skipped.load(),
                       g_trusted.load(), g_refreshed.load(), g_unwritable_warned.load()};
}

Result<BarChunk> open_vision_bars(const std::string& zip_path, bool use_cache) {
  if (!use_cache) {
    auto decoded = read_vision_archive(zip_path);
    if (!decoded) return decoded.error();
    return BarChunk(std::move(decoded).value());
  }
  const std::string cache = bar_cache_path(zip_path);
  HashedArchive hashed;
  hashed.hashed_at_ns = wall_now_ns();
  hashed.identity = stat_identity(zip_path);
  MappedCache mapped;
  BarChunk chunk;
  std::string why;
  Lookup found = map_cache(cache, mapped, why);
  if (found == Lookup::kHit && header_trusts(mapped.header, hashed.identity)) {
    // The zip is the very file whose bytes were hashed when the cache was built,
    // unchanged since: its recorded sha256 stands, the zip is not read.
    found = view_rows(mapped, chunk, why);
    if (found == Lookup::kHit) {
      const std::string sha256(mapped.header.archive_sha256, kShaHex);
      if (Status s = verify_vision_checksum(zip_path, sha256); !s) return s.error();
      g_hits.fetch_add(1, std::memory_order_relaxed);
      g_trusted.fetch_add(1, std::memory_order_relaxed);
      return chunk;
    }
  }
  auto zip = load_vision_zip(zip_path);
  if (!zip) return zip.error();
  const uint64_t size = zip->bytes.size();
  // The identity stands for the bytes hashed only if the file held still during the read.
  if (!hashed.identity || hashed.identity->size != size || stat_identity(zip_path) != hashed.identity) {
    hashed.identity.reset();
  }
  if (found == Lookup::kHit && bound_to(mapped, size, zip->sha256, why)) found = view_rows(mapped, chunk, why);
  else if (found == Lookup::kHit) found = Lookup::kInvalid;
  if (found == Lookup::kHit) {
    // The archive is the one the cache was built from; its .CHECKSUM is still
    // checked, so a cache never hides a mismatch the archive alone would report.
    if (Status s = verify_vision_checksum(zip_path, zip->sha256); !s) return s.error();
    g_hits.fetch_add(1, std::memory_order_relaxed);
    // Hashed now with an identity that can stand for it from now on (a cache
    // built right after its zip was written, or a mirror copied elsewhere): the
    // header is rewritten so that later runs need not read the zip.
    if (hashed.trustworthy() && !header_trusts(mapped.header, hashed.identity)) {
      store(cache, BarChunk(chunk).to_vector(), size, zip->sha256, hashed, true);
    }
    return chunk;
  }
  if (found == Lookup::kInvalid) {
    g_invalid.fetch_add(1, std::memory_order_relaxed);
    logger("sources")->warn("vision bar cache {}: {}; rebuilding it from the archive", cache, why);
  }
  auto decoded = read_vision_archive(zip_path, *zip);
  if (!decoded) return decoded.error();
  store(cache, *decoded, size, zip->sha256, hashed);
  return BarChunk(std::move(decoded).value());
}

Result<std::vector<Bar>> read_vision_bars(const std::string& zip_path, bool use_cache) {
  auto chunk = open_vision_bars(zip_path, use_cache);
  if (!chunk) return chunk.error();
  return std::move(chunk).value().to_vector();
}

}  // namespace af::vision
