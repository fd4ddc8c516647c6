#include "synthetic/synthetic_market.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/interval.hpp"
#include "vision/vision_layout.hpp"
#include "vision/vision_writer.hpp"

namespace af::synthetic {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// xoshiro256**: our own generator and normal sampler, so that a seed gives the
// same market on every standard library (std distributions are not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0;
    while (u <= 0) u = uniform();
    const double v = uniform();
    const double r = std::sqrt(-2.0 * std::log(u));
    spare_ = r * std::sin(2 * std::numbers::pi * v);
    has_spare_ = true;
    return r * std::cos(2 * std::numbers::pi * v);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

uint64_t hash_name(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;  // FNV-1a, then mixed
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return splitmix64(h);
}

double pow10(int d) {
  double p = 1;
  for (int i = 0; i < d; ++i) p *= 10;
  return p;  // exact for d <= 22
}

// Per-symbol character, drawn once from (seed, symbol).
struct Profile {
  double price0;
  int price_decimals;  // tick = 10^-d
  int qty_decimals;    // lot = 10^-d
  double sigma_minute; // long-run volatility of a 1m log return
  double quote_per_minute;  // typical traded notional per minute
  double notional_per_trade;
};

Profile make_profile(const std::string& symbol, uint64_t seed) {
  Rng rng(hash_name(symbol, seed));
  Profile p{};
  if (symbol.rfind("BTC", 0) == 0) {
    p.price0 = 30000 + 40000 * rng.uniform();
  } else if (symbol.rfind("ETH", 0) == 0) {
    p.price0 = 1500 + 2500 * rng.uniform();
  } else {
    p.price0 = std::exp(std::log(0.05) + (std::log(500.0) - std::log(0.05)) * rng.uniform());
  }
  const int mag = static_cast<int>(std::floor(std::log10(p.price0)));
  p.price_decimals = std::clamp(4 - mag, 1, 7);
  p.qty_decimals = std::clamp(mag - 1, 0, 3);
  const double annual_vol = 0.5 + 0.7 * rng.uniform();
  p.sigma_minute = annual_vol / std::sqrt(365.0 * 24 * 60);
  p.quote_per_minute = std::exp(std::log(2e4) + (std::log(2e6) - std::log(2e4)) * rng.uniform());
  p.notional_per_trade = 500 + 1500 * rng.uniform();
  return p;
}

// Generates base bars (1m, or 1s) of one symbol from `from` (aligned) to `to`.
std::vector<Bar> base_bars(const Profile& prof, uint64_t path_seed, int64_t base_ms, int64_t from, int64_t to) {
  std::vector<Bar> out;
  if (to <= from) return out;
  out.reserve(static_cast<size_t>((to - from) / base_ms));
  Rng rng(path_seed);
  const double tick_scale = pow10(prof.price_decimals);  // ticks per unit of price
  const double lot_scale = pow10(prof.qty_decimals);
  const double step = std::sqrt(static_cast<double>(base_ms) / kMinuteMs);
  const double target_var = prof.sigma_minute * prof.sigma_minute * step * step;
  // GARCH(1,1): persistence 0.99 gives clusters of hours, as crypto minute data shows.
  const double alpha = 0.06, beta = 0.93, omega = (1 - alpha - beta) * target_var;
  double var = target_var;
  double last_r = 0;
  double log_price = std::log(prof.price0);
  int64_t prev_close = std::max<int64_t>(1, std::llround(prof.price0 * tick_scale));

  for (int64_t ts = from; ts < to; ts += base_ms) {
    // The GARCH recursion runs on deseasonalised shocks (else alpha * season + beta
    // exceeds 1 at the daily peak and the variance explodes); capped at 30x the
    // long-run variance so that a seed never yields absurd minutes.
    var = std::min(omega + alpha * last_r * last_r + beta * var, 30 * target_var);
    const double hour = static_cast<double>(ts - bucket_start(ts, kDayMs)) / kHourMs;
    // Activity peaks around 14:00 UTC (US open) and is lowest around 02:00.
    const double season = 1.0 + 0.45 * std::cos(2 * std::numbers::pi * (hour - 14.0) / 24.0);
    const double z = rng.normal();
    const double sigma = std::sqrt(var * season);
    const double r = sigma * z;
    last_r = std::sqrt(var) * z;
    log_price += r;

    Bar b;
    b.ts = ts;
    const int64_t open_t = prev_close;
    const int64_t close_t = std::max<int64_t>(1, std::llround(std::exp(log_price) * tick_scale));
    const double up = std::abs(rng.normal()) * sigma * 0.6;
    const double down = std::abs(rng.normal()) * sigma * 0.6;
    const int64_t hi_body = std::max(open_t, close_t), lo_body = std::min(open_t, close_t);
    const int64_t high_t = std::max<int64_t>(hi_body, std::llround(static_cast<double>(hi_body) * std::exp(up)));
    const int64_t low_t = std::clamp<int64_t>(std::llround(static_cast<double>(lo_body) * std::exp(-down)), 1, lo_body);
    b.open = static_cast<double>(open_t) / tick_scale;
    b.high = static_cast<double>(high_t) / tick_scale;
    b.low = static_cast<double>(low_t) / tick_scale;
    b.close = static_cast<double>(close_t) / tick_scale;
    prev_close = close_t;

    // Volume follows volatility (|r| and the regime) and the time of day.
    const double vwap = (b.open + b.high + b.low + b.close) / 4;
    const double activity = season * std::sqrt(var / target_var) * (0.6 + 0.8 * std::abs(r) / sigma) *
                            std::exp(0.5 * rng.normal() - 0.125);
    const double quote_target = prof.quote_per_minute * step * step * activity;
    const int64_t lots = std::max<int64_t>(1, std::llround(quote_target / vwap * lot_scale));
    b.volume = static_cast<double>(lots) / lot_scale;
    b.quote_volume = static_cast<double>(std::llround(b.volume * vwap * 1e4)) / 1e4;
    b.trades = static_cast<double>(
        std::max<int64_t>(1, std::llround(b.volume * vwap / prof.notional_per_trade * (0.7 + 0.6 * rng.uniform()))));
    // Buyers dominate up bars, sellers down bars.
    const double share = std::clamp(0.5 + 0.2 * std::tanh(r / sigma) + 0.08 * rng.normal(), 0.05, 0.95);
    const int64_t taker_lots = std::llround(static_cast<double>(lots) * share);
    b.taker_buy_volume = static_cast<double>(taker_lots) / lot_scale;
    b.taker_buy_quote_volume = static_cast<double>(std::llround(b.taker_buy_volume * vwap * 1e4)) / 1e4;
    b.origin = BarOrigin::kArchive;
    out.push_back(b);
  }
  return out;
}

}  // namespace

SyntheticMarket::SyntheticMarket(std::vector<std::string> symbols, uint64_t seed)
    : symbols_(std::move(symbols)), seed_(seed) {}

std::vector<Bar> SyntheticMarket::bars(size_t index, int64_t interval_ms, int64_t from_ms, int64_t to_ms) const {
  const std::string& symbol = symbols_.at(index);
  const int64_t base_ms = interval_ms < kMinuteMs ? interval_ms : kMinuteMs;
  const int64_t from = bucket_start(from_ms + interval_ms - 1, interval_ms);
  // The path starts at the UTC day of `from_ms`, whatever the interval, so that the
  // 1m and the 1h bars of one request range describe the same market.
  const int64_t origin = std::min(bucket_start(from_ms, kDayMs), from);
  const Profile prof = make_profile(symbol, seed_);
  std::vector<Bar> base = base_bars(prof, hash_name(symbol, seed_ ^ 0x5EED5EED5EEDULL), base_ms, origin, to_ms);
  base.erase(base.begin(), std::lower_bound(base.begin(), base.end(), from,
                                            [](const Bar& b, int64_t ts) { return b.ts < ts; }));
  if (base_ms == interval_ms) return base;

  // Exact aggregation, in time order; a trailing bucket cut by `to` is dropped.
  // Quantities are summed on their decimal grid (lots, 1e-4 of quote), as the
  // exchange sums them: a sum of doubles would leave 90.37700000000001 where
  // Binance writes 90.377, and the archive and the streams would disagree.
  const double lot_scale = pow10(prof.qty_decimals);
  constexpr double kQuoteScale = 1e4;
  auto units = [](double v, double scale) { return std::llround(v * scale); };
  std::vector<Bar> out;
  out.reserve(base.size() / static_cast<size_t>(interval_ms / base_ms) + 1);
  const size_t per = static_cast<size_t>(interval_ms / base_ms);
  for (size_t i = 0; i + per <= base.size(); i += per) {
    Bar a = base[i];
    int64_t volume = 0, quote = 0, taker = 0, taker_quote = 0;
    for (size_t j = i; j < i + per; ++j) {
      const Bar& b = base[j];
      a.high = std::max(a.high, b.high);
      a.low = std::min(a.low, b.low);
      a.close = b.close;
      if (j > i) a.trades += b.trades;
      volume += units(b.volume, lot_scale);
      quote += units(b.quote_volume, kQuoteScale);
      taker += units(b.taker_buy_volume, lot_scale);
      taker_quote += units(b.taker_buy_quote_volume, kQuoteScale);
    }
    a.volume = static_cast<double>(volume) / lot_scale;
    a.quote_volume = static_cast<double>(quote) / kQuoteScale;
    a.taker_buy_volume = static_cast<double>(taker) / lot_scale;
    a.taker_buy_quote_volume = static_cast<double>(taker_quote) / kQuoteScale;
    out.push_back(a);
  }
  return out;
}

Status write_synthetic_mirror(const std::string& dir, const std::vector<std::string>& symbols, int64_t interval_ms,
                              int64_t from_ms, int64_t to_ms, uint64_t seed) {
  SyntheticMarket market(symbols, seed);
  for (size_t i = 0; i < symbols.size(); ++i) {
    const std::vector<Bar> all = market.bars(i, interval_ms, from_ms, to_ms);
    size_t begin = 0;
    while (begin < all.size()) {
      const vision::VisionPeriod month = vision::VisionPeriod::month_of(all[begin].ts);
      const int64_t end_ms = month.end_ms();
      size_t end = begin;
      while (end < all.size() && all[end].ts < end_ms) ++end;
      auto written = vision::write_vision_file(dir, symbols[i], interval_ms, month,
                                       std::span<const Bar>(all.data() + begin, end - begin), vision::futures_dialect());
      if (!written) return written.error();
      begin = end;
    }
  }
  return {};
}

}  // namespace af::synthetic
