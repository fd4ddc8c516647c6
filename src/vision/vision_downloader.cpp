#include "vision/vision_downloader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/read_whole_file.hpp"
#include "common/symbol.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_bar_cache.hpp"

namespace af::vision {
namespace {

namespace fs = std::filesystem;

// A file's bytes, or "" when it cannot be read (then it does not verify).
std::string read_all(const std::string& path) {
  auto bytes = read_whole_file(path);
  return bytes ? std::move(bytes).value() : std::string();
}

bool write_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".part";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

// The sha256 hex at the start of a .CHECKSUM ("<64 hex>  <name>\n"), lower-cased.
std::optional<std::string> checksum_hex(std::string_view text) {
  if (text.size() < 64) return std::nullopt;
  std::string hex(text.substr(0, 64));
  for (char& c : hex) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return hex;
}

}  // namespace

VisionDownloader::VisionDownloader(VisionDownloadOptions options)
    : options_(std::move(options)), http_(options_.http) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

std::string VisionDownloader::cache_path(const std::string& symbol, const std::string& interval,
                                         const VisionPeriod& period) const {
  return vision_dir(options_.cache_dir, options_.market, period.monthly(), symbol, interval) + "/" +
         vision_file_name(symbol, interval, period);
}

Result<std::optional<std::string>> VisionDownloader::ensure_file(const std::string& symbol,
                                                                 const std::string& interval,
                                                                 const VisionPeriod& period, int& downloaded,
                                                                 int& cached) {
  // Defence in depth: the pipeline's universe is checked when it is loaded, but
  // a symbol names folders of the cache here, so none may lead out of it.
  if (const std::string problem = symbol_problem(symbol); !problem.empty())
    return make_error("vision cache: " + problem);
  const std::string path = cache_path(symbol, interval, period);
  const std::string name = vision_file_name(symbol, interval, period);
  // A cached zip is trusted only when it still matches its cached checksum.
  if (fs::exists(path) && fs::exists(path + ".CHECKSUM")) {
    auto want = checksum_hex(read_all(path + ".CHECKSUM"));
    if (want && sha256_hex(read_all(path)) == *want) {
      ++cached;
      return std::optional<std::string>(path);
    }
    logger("sources.market")->warn("vision cache file corrupt, downloading again path={}", path);
  }
  const std::string rel = "/data/" + std::string(vision_market_path(options_.market)) +
                          (period.monthly() ? "/monthly" : "/daily") + "/klines/" + symbol + "/" + interval + "/" +
                          name;
  const std::string url = options_.base_url + rel;
  Error last = make_error(url + ": not attempted", true);
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    auto sum = http_.get(url + ".CHECKSUM");
    if (!sum) {
      if (!sum.error().transient) return sum.error();
      last = sum.error();
      continue;
    }
    if (sum->status == 404) return std::optional<std::string>();
    if (sum->status != 200) {
      last = make_error("GET " + url + ".CHECKSUM: HTTP " + std::to_string(sum->status), sum->status >= 500);
      if (sum->status < 500) return last;
      continue;
    }
    auto want = checksum_hex(sum->body);
    if (!want) return make_error(url + ".CHECKSUM: not a sha256 checksum line");
    auto zip = http_.get(url);
    if (!zip) {
      if (!zip.error().transient) return zip.error();
      last = zip.error();
      continue;
    }
    if (zip->status == 404) return std::optional<std::string>();
    if (zip->status != 200) {
      last = make_error("GET " + url + ": HTTP " + std::to_string(zip->status), zip->status >= 500);
      if (zip->status < 500) return last;
      continue;
    }
    const std::string got = sha256_hex(zip->body);
    if (got != *want) {
      last = make_error(url + ": checksum mismatch: expected " + *want + ", got " + got, true);
      logger("sources.market")->warn("vision checksum mismatch url={} attempt={}", url, attempt + 1);
      continue;
    }
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) return make_error(path + ": cannot create the cache folder: " + ec.message());
    // The zip first, its checksum last: a crash in between leaves a zip without a
    // checksum, which the next run downloads again.
    if (!write_atomically(path, zip->body) || !write_atomically(path + ".CHECKSUM", sum->body)) {
      return make_error(path + ": cannot write to the cache");
    }
    ++downloaded;
    return std::optional<std::string>(path);
  }
  return last;
}

Result<VisionHistory> VisionDownloader::fetch(const std::string& symbol, int64_t interval_ms, int64_t from,
                                              int64_t to, int64_t now_ms) {
  VisionHistory out;
  if (from >= to) return out;
  const std::string interval = interval_name(interval_ms);
  auto add_missing = [&](int64_t a, int64_t b) {
    a = std::max(a, from);
    b = std::min(b, to);
    if (a >= b) return;
    if (!out.missing.empty() && out.missing.back().second == a) out.missing.back().second = b;
    else out.missing.emplace_back(a, b);
  };
  auto add_file = [&](const std::string& path, const VisionPeriod& p) {
    auto bars = read_vision_bars(path, options_.bar_cache);
    if (!bars) {
      // Kept, it would fail the same way on every restart.
      ++out.files_rejected;
      std::error_code ec;
      fs::remove(path + ".CHECKSUM", ec);
      fs::remove(path, ec);
      fs::remove(bar_cache_path(path), ec);
      logger("sources.market")
          ->warn("vision archive file rejected, dropped from the cache, its range goes to REST error={}",
                 bars.error().message);
      add_missing(p.start_ms(), p.end_ms());
      return;
    }
    for (const Bar& b : *bars) {
      if (b.ts >= from && b.ts < to) out.bars.push_back(b);
    }
  };
  auto do_days = [&](int64_t start, int64_t end) -> Status {
    for (int64_t day = bucket_start(start, kDayMs); day < end; day += kDayMs) {
      const VisionPeriod p = VisionPeriod::day_of(day);
      if (p.end_ms() > now_ms) {  // not over yet: no file can exist
        add_missing(day, day + kDayMs);
        continue;
      }
      auto file = ensure_file(symbol, interval, p, out.files_downloaded, out.files_cached);
      if (!file) return file.error();
      if (!*file) {
        add_missing(day, day + kDayMs);
        continue;
      }
      add_file(**file, p);
    }
    return {};
  };
  for (VisionPeriod m = VisionPeriod::month_of(from); m.start_ms() < to; m = VisionPeriod::month_of(m.end_ms())) {
    if (m.end_ms() <= now_ms) {
      auto file = ensure_file(symbol, interval, m, out.files_downloaded, out.files_cached);
      if (!file) return file.error();
      if (*file) {
        add_file(**file, m);
        continue;
      }
    }
    if (auto st = do_days(std::max(from, m.start_ms()), std::min(to, m.end_ms())); !st) return st.error();
  }
  std::sort(out.bars.begin(), out.bars.end(), [](const Bar& a, const Bar& b) { return a.ts < b.ts; });
  out.bars.erase(std::unique(out.bars.begin(), out.bars.end(), [](const Bar& a, const Bar& b) { return a.ts == b.ts; }),
                 out.bars.end());
  return out;
}

}  // namespace af::vision
