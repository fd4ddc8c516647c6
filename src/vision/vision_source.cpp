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

Result<std::vector<Bar>> VisionSource::history(const std::string& symbol, int64_t from, int64_t to) {
  const auto files = list_files(symbol);
  if (files.empty()) {
    return make_error("no " + interval_ + " kline files for " + symbol + " in " + dir(symbol, true) + " or " +
                      dir(symbol, false));
  }
  // The usual replay chunk is one monthly file: its decoded vector is taken over
  // and trimmed in place rather than copied bar by bar (a month of 1m bars is
  // 4 MB; copying it was a fifth of a warm-cache replay's CPU time).
  std::vector<Bar> bars;
  const auto outside = [from, to](const Bar& b) { return b.ts < from || b.ts >= to; };
  for (const auto& f : files) {
    if (f.period.end_ms() <= from || f.period.start_ms() >= to) continue;
    auto file_bars = read_vision_bars(f.path, bar_cache_);
    if (!file_bars) return file_bars.error();
    if (bars.empty()) {
      bars = std::move(file_bars).value();
      bars.erase(std::remove_if(bars.begin(), bars.end(), outside), bars.end());
    } else {
      for (const Bar& b : *file_bars) {
        if (!outside(b)) bars.push_back(b);
      }
    }
  }
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
  return bars;
}

Result<std::optional<int64_t>> VisionSource::earliest(const std::string& symbol) {
  auto files = list_files(symbol);
  std::stable_sort(files.begin(), files.end(),
                   [](const FileRef& a, const FileRef& b) { return a.period.start_ms() < b.period.start_ms(); });
  for (const auto& f : files) {
    auto bars = read_vision_bars(f.path, bar_cache_);
    if (!bars) return bars.error();
    if (bars->empty()) continue;
    int64_t first = bars->front().ts;
    for (const Bar& b : *bars) first = std::min(first, b.ts);
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
