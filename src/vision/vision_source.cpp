#include "vision/vision_source.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "vision/vision_bar_cache.hpp"

namespace af::vision {
namespace {

namespace fs = std::filesystem;

}  // namespace

VisionSource::VisionSource(std::string root, VisionMarket market, int64_t interval_ms, bool bar_cache)
    : root_(std::move(root)),
      market_(market),
      interval_ms_(interval_ms),
      interval_(interval_name(interval_ms)),
      bar_cache_(bar_cache) {
  // Accept the mirror's `data/` folder itself as the root too.
  std::error_code ec;
  if (!fs::exists(fs::path(root_) / "data" / vision_market_path(market_), ec) &&
      fs::exists(fs::path(root_) / vision_market_path(market_), ec)) {
    data_root_override_ = true;
  }
}

std::string VisionSource::dir(const std::string& symbol, bool monthly) const {
  if (!data_root_override_) return vision_dir(root_, market_, monthly, symbol, interval_);
  return root_ + "/" + vision_market_path(market_) + (monthly ? "/monthly" : "/daily") + "/klines/" + symbol + "/" +
         interval_;
}

std::vector<VisionSource::FileRef> VisionSource::list_files(const std::string& symbol) const {
  std::vector<FileRef> monthly;
  std::vector<FileRef> daily;
  for (bool is_monthly : {true, false}) {
    const std::string d = dir(symbol, is_monthly);
    std::error_code ec;
    fs::directory_iterator it(d, ec);
    if (ec) continue;
    for (const auto& entry : it) {
      const std::string name = entry.path().filename().string();
      auto p = parse_vision_file_name(name, symbol, interval_);
      if (!p || p->monthly() != is_monthly) continue;
      (is_monthly ? monthly : daily).push_back({*p, d + "/" + name});
    }
  }
  auto by_start = [](const FileRef& a, const FileRef& b) { return a.period.start_ms() < b.period.start_ms(); };
  std::sort(monthly.begin(), monthly.end(), by_start);
  std::sort(daily.begin(), daily.end(), by_start);
  std::set<std::pair<int64_t, unsigned>> months;
  for (const auto& f : monthly) months.insert({f.period.year, f.period.month});
  std::vector<FileRef> out = std::move(monthly);
  for (auto& f : daily) {
    if (!months.count({f.period.year, f.period.month})) out.push_back(std::move(f));
  }
  return out;
}

Result<BarChunk> VisionSource::open_file(const std::string& path) {
  if (auto it = opened_.find(path); it != opened_.end()) {
    BarChunk chunk = std::move(it->second);
    opened_.erase(it);
    return chunk;
  }
  return open_vision_bars(path, bar_cache_);
}

Error VisionSource::no_files(const std::string& symbol) const {
  return make_error("no " + interval_ + " kline files for " + symbol + " in " + dir(symbol, true) + " or " +
                    dir(symbol, false));
}

void VisionSource::sort_and_dedup(const std::string& symbol, std::vector<Bar>& bars) const {
  // Files were read monthly first, then daily, so a stable sort keeps the monthly
  // row first when both hold the same ts. An archive file is normally in order.
  const auto by_ts = [](const Bar& a, const Bar& b) { return a.ts < b.ts; };
  if (!std::is_sorted(bars.begin(), bars.end(), by_ts)) std::stable_sort(bars.begin(), bars.end(), by_ts);
  static RateLimiter limiter(10, 60'000);
  size_t w = 0;
  for (size_t r = 0; r < bars.size(); ++r) {
    if (w > 0 && bars[w - 1].ts == bars[r].ts) {
      if (!bars[w - 1].same_values(bars[r])) {
        uint64_t suppressed = 0;
        if (limiter.allow(suppressed)) {
          logger("sources")->warn("vision: conflicting rows symbol={} interval={} ts={}: keeping the first (suppressed={})",
                                  symbol, interval_, format_iso8601(bars[r].ts), suppressed);
        }
      }
      continue;
    }
    if (w != r) bars[w] = bars[r];
    ++w;
  }
  bars.resize(w);
}

Result<std::vector<Bar>> VisionSource::history(const std::string& symbol, int64_t from, int64_t to) {
  const auto files = list_files(symbol);
  if (files.empty()) return no_files(symbol);
  // The usual replay chunk is one monthly file: its decoded vector is taken over
  // and trimmed in place rather than copied bar by bar (a month of 1m bars is
  // 4 MB; copying it was a fifth of a warm-cache replay's CPU time).
  std::vector<Bar> bars;
  const auto outside = [from, to](const Bar& b) { return b.ts < from || b.ts >= to; };
  for (const auto& f : files) {
    if (f.period.end_ms() <= from || f.period.start_ms() >= to) continue;
    auto chunk = open_file(f.path);
    if (!chunk) return chunk.error();
    std::vector<Bar> file_bars = std::move(chunk).value().to_vector();
    if (bars.empty()) {
      bars = std::move(file_bars);
      bars.erase(std::remove_if(bars.begin(), bars.end(), outside), bars.end());
    } else {
      for (const Bar& b : file_bars) {
        if (!outside(b)) bars.push_back(b);
      }
    }
  }
  sort_and_dedup(symbol, bars);
  return bars;
}

Result<BarChunk> VisionSource::history_chunk(const std::string& symbol, int64_t from, int64_t to) {
  const auto files = list_files(symbol);
  if (files.empty()) return no_files(symbol);
  const FileRef* only = nullptr;
  size_t overlapping = 0;
  for (const auto& f : files) {
    if (f.period.end_ms() <= from || f.period.start_ms() >= to) continue;
    ++overlapping;
    only = &f;
  }
  if (overlapping == 0) return BarChunk();
  // Several files (a window wider than a month, daily files): merged in memory.
  if (overlapping > 1) {
    auto bars = history(symbol, from, to);
    if (!bars) return bars.error();
    return BarChunk(std::move(bars).value());
  }
  // One file, the usual replay chunk: a file whose rows are strictly increasing
  // (every real archive) holds the window's bars as one run of rows, found by
  // binary search and viewed where they are (the mapped cache file on a hit).
  auto chunk = open_file(only->path);
  if (!chunk) return chunk.error();
  BarChunk& c = *chunk;
  bool increasing = true;
  for (size_t i = 1; i < c.size() && increasing; ++i) increasing = c.ts(i - 1) < c.ts(i);
  if (!increasing) {
    std::vector<Bar> bars = std::move(c).to_vector();
    bars.erase(std::remove_if(bars.begin(), bars.end(), [from, to](const Bar& b) { return b.ts < from || b.ts >= to; }),
               bars.end());
    sort_and_dedup(symbol, bars);
    return BarChunk(std::move(bars));
  }
  const auto first_at_or_after = [&c](int64_t t) {
    size_t lo = 0, hi = c.size();
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (c.ts(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const size_t begin = first_at_or_after(from);
  c.narrow(begin, std::max(begin, first_at_or_after(to)));
  return chunk;
}

Result<std::optional<int64_t>> VisionSource::earliest(const std::string& symbol) {
  auto files = list_files(symbol);
  std::stable_sort(files.begin(), files.end(),
                   [](const FileRef& a, const FileRef& b) { return a.period.start_ms() < b.period.start_ms(); });
  for (const auto& f : files) {
    auto chunk = open_file(f.path);
    if (!chunk) return chunk.error();
    if (chunk->empty()) continue;
    int64_t first = chunk->ts(0);
    for (size_t i = 1; i < chunk->size(); ++i) first = std::min(first, chunk->ts(i));
    // Replay asks for the earliest bar and then for the history from there,
    // which starts in this very file: it is kept for that call rather than
    // read, hashed and checked twice.
    opened_.insert_or_assign(f.path, std::move(chunk).value());
    return std::optional<int64_t>(first);
  }
  return std::optional<int64_t>();
}

std::optional<int64_t> VisionSource::coverage_end(const std::string& symbol) {
  std::optional<int64_t> end;
  for (const auto& f : list_files(symbol)) end = std::max(end.value_or(f.period.end_ms()), f.period.end_ms());
  return end;
}

}  // namespace af::vision
