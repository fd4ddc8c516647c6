#include "sim/market_data.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "common/interval.hpp"
#include "common/read_whole_file.hpp"
#include "common/log.hpp"
#include "vision/vision_source.hpp"
#include "vision/vision_writer.hpp"

namespace af::sim {
namespace {

namespace fs = std::filesystem;

}  // namespace

int decimals_of(double v) {
  v = std::fabs(v);
  double scale = 1;
  for (int d = 0; d < 8; ++d, scale *= 10) {
    const double scaled = v * scale;
    if (std::fabs(scaled - std::round(scaled)) <= 1e-9 * std::max(1.0, scaled)) return d;
  }
  return 8;
}

MarketData::MarketData(vision::VisionMarket market, std::string mirror_root)
    : market_(market), mirror_root_(std::move(mirror_root)) {
  // Symbols: every folder under <market>/{monthly,daily}/klines/.
  std::set<std::string> names;
  for (const char* period : {"monthly", "daily"}) {
    std::error_code ec;
    fs::directory_iterator it(fs::path(mirror_data_root()) / vision::vision_market_path(market) / period / "klines",
                              ec);
    if (ec) continue;
    for (const auto& entry : it) {
      if (entry.is_directory()) names.insert(entry.path().filename().string());
    }
  }
  symbols_.assign(names.begin(), names.end());
}

MarketData::MarketData(vision::VisionMarket market, std::vector<std::string> symbols, uint64_t seed,
                       int64_t earliest_ms)
    : market_(market),
      generator_(std::make_unique<synthetic::SyntheticMarket>(symbols, seed)),
      symbols_(std::move(symbols)),
      generator_earliest_(earliest_ms) {}

std::string MarketData::mirror_data_root() const {
  std::error_code ec;
  if (fs::exists(fs::path(mirror_root_) / "data", ec)) return mirror_root_ + "/data";
  return mirror_root_;
}

bool MarketData::has_symbol(const std::string& symbol) const {
  return std::find(symbols_.begin(), symbols_.end(), symbol) != symbols_.end();
}

// Chunks are calendar months (days below 1m, to keep 1s chunks small): a
// generated path starts at its chunk's first bar, so a month is one continuous path.
int64_t MarketData::chunk_start_of(int64_t ts, int64_t interval_ms) {
  if (interval_ms < kMinuteMs) return bucket_start(ts, kDayMs);
  return vision::VisionPeriod::month_of(ts).start_ms();
}

int64_t MarketData::chunk_end_of(int64_t chunk_start, int64_t interval_ms) {
  if (interval_ms < kMinuteMs) return chunk_start + kDayMs;
  return vision::VisionPeriod::month_of(chunk_start).end_ms();
}

const std::vector<Bar>& MarketData::chunk(const std::string& symbol, int64_t interval_ms, int64_t start) {
  const ChunkKey key{symbol, interval_ms, start};
  auto it = chunks_.find(key);
  if (it != chunks_.end()) return it->second;
  std::vector<Bar> bars;
  const int64_t end = chunk_end_of(start, interval_ms);
  if (generator_) {
    const auto& syms = generator_->symbols();
    const auto pos = std::find(syms.begin(), syms.end(), symbol);
    if (pos != syms.end() && end > generator_earliest_) {
      bars = generator_->bars(static_cast<size_t>(pos - syms.begin()), interval_ms, start, end);
      std::erase_if(bars, [&](const Bar& b) { return b.ts < generator_earliest_; });
    }
  } else if (has_symbol(symbol)) {
    vision::VisionSource source(mirror_root_, market_, interval_ms);
    auto got = source.history(symbol, start, end);
    if (got) bars = std::move(*got);
  }
  return chunks_.emplace(key, std::move(bars)).first->second;
}

std::vector<Bar> MarketData::bars(const std::string& symbol, int64_t interval_ms, int64_t from, int64_t to) {
  std::vector<Bar> out;
  if (!has_symbol(symbol) || to <= from) return out;
  const auto first = earliest(symbol, interval_ms);
  if (!first) return out;
  from = std::max(from, *first);
  for (int64_t c = chunk_start_of(from, interval_ms); c < to; c = chunk_end_of(c, interval_ms)) {
    const auto& bars = chunk(symbol, interval_ms, c);
    auto lo = std::lower_bound(bars.begin(), bars.end(), from, [](const Bar& b, int64_t t) { return b.ts < t; });
    for (; lo != bars.end() && lo->ts < to; ++lo) out.push_back(*lo);
  }
  return out;
}

std::optional<Bar> MarketData::bar_at(const std::string& symbol, int64_t interval_ms, int64_t ts) {
  if (!has_symbol(symbol)) return std::nullopt;
  const auto& bars = chunk(symbol, interval_ms, chunk_start_of(ts, interval_ms));
  auto it = std::lower_bound(bars.begin(), bars.end(), ts, [](const Bar& b, int64_t t) { return b.ts < t; });
  if (it == bars.end() || it->ts != ts) return std::nullopt;
  return *it;
}

std::optional<int64_t> MarketData::earliest(const std::string& symbol, int64_t interval_ms) {
  if (!has_symbol(symbol)) return std::nullopt;
  if (generator_) return bucket_start(generator_earliest_ + interval_ms - 1, interval_ms);
  const auto key = std::make_pair(symbol, interval_ms);
  auto it = earliest_.find(key);
  if (it != earliest_.end()) return it->second;
  vision::VisionSource source(mirror_root_, market_, interval_ms);
  auto got = source.earliest(symbol);
  std::optional<int64_t> value = got ? *got : std::nullopt;
  earliest_[key] = value;
  return value;
}

NumberFormat MarketData::number_format(const std::string& symbol, int64_t interval_ms) {
  if (market_ == vision::VisionMarket::kSpot) return NumberFormat{8, 8, 8};
  auto it = formats_.find(symbol);
  if (it != formats_.end()) return it->second;
  // Futures write prices at the tick's decimals and quantities at the lot's; the
  // quote volume carries both. Infer them from the first chunk of data.
  NumberFormat f{0, 0, 0};
  const auto first = earliest(symbol, interval_ms);
  if (!first) return NumberFormat{};
  const auto& bars = chunk(symbol, interval_ms, chunk_start_of(*first, interval_ms));
  for (const Bar& b : bars) {
    for (double p : {b.open, b.high, b.low, b.close}) f.price = std::max(f.price, decimals_of(p));
    for (double q : {b.volume, b.taker_buy_volume}) f.qty = std::max(f.qty, decimals_of(q));
  }
  f.price = std::max(f.price, 1);
  f.quote = std::min(8, f.price + f.qty);
  formats_[symbol] = f;
  return f;
}

Result<std::string> MarketData::archive_file(const std::string& symbol, const std::string& interval,
                                             int64_t interval_ms, const vision::VisionPeriod& period, bool checksum,
                                             const std::string& scratch_dir) {
  const std::string name = vision::vision_file_name(symbol, interval, period);
  const std::string suffix = checksum ? ".CHECKSUM" : "";
  if (!generator_) {
    const std::string dir =
        mirror_data_root() + "/" + vision::vision_market_path(market_) + (period.monthly() ? "/monthly" : "/daily") +
        "/klines/" + symbol + "/" + interval;
    std::error_code ec;
    if (fs::exists(dir + "/" + name + suffix, ec)) return read_whole_file(dir + "/" + name + suffix);
    if (fs::exists(dir + "/" + name, ec)) return make_error(dir + "/" + name + suffix + ": no such file");
  }
  // Not in the mirror (or generator mode): write it from the bars, once.
  const std::string path =
      scratch_dir + "/" + vision::vision_market_path(market_) + (period.monthly() ? "/monthly/" : "/daily/") + name;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    const auto bars = this->bars(symbol, interval_ms, period.start_ms(), period.end_ms());
    if (bars.empty()) return make_error(name + ": no data for this period");
    vision::VisionWriteOptions opt =
        market_ == vision::VisionMarket::kSpot ? vision::spot_dialect() : vision::futures_dialect();
    // Spot files carry microseconds from 2025-01-01 on, as Binance writes them.
    if (market_ == vision::VisionMarket::kSpot && period.start_ms() >= 1735689600000) opt.microseconds = true;
    const std::string csv_name = name.substr(0, name.size() - 4) + ".csv";
    Status st = vision::write_vision_zip(path, csv_name, vision::format_vision_csv(bars, interval_ms, opt), true);
    if (!st) return st.error();
  }
  return read_whole_file(path + suffix);
}

}  // namespace af::sim
