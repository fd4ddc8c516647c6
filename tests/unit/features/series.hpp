#pragma once
// Test series for the feature tests: random walks with flat stretches, zero
// volumes and extreme price scales, and real Binance closes when the shared
// data is present.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace af::features::test {

struct Bars {
  std::vector<double> open, high, low, close, volume;
  size_t size() const { return close.size(); }
  const std::vector<double>& column(const std::string& name) const {
    if (name == "open") return open;
    if (name == "high") return high;
    if (name == "low") return low;
    if (name == "volume") return volume;
    return close;
  }
  double magnitude() const {
    double m = 0;
    for (size_t i = 0; i < size(); ++i) m = std::max({m, std::fabs(high[i]), std::fabs(low[i])});
    return m;
  }
};

// A geometric random walk around `scale` with flat stretches (high == low ==
// close, zero volume) every so often, so that ranges of 0 and sums of 0 occur.
inline Bars random_bars(size_t n, double scale, uint64_t seed, bool flats = true) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0.0, 0.01);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Bars b;
  double c = scale;
  size_t flat_left = 0;
  for (size_t i = 0; i < n; ++i) {
    if (flats && flat_left == 0 && u(rng) < 0.01) flat_left = 20 + static_cast<size_t>(u(rng) * 60);
    if (flat_left > 0) {
      --flat_left;
      b.open.push_back(c);
      b.high.push_back(c);
      b.low.push_back(c);
      b.close.push_back(c);
      b.volume.push_back(0.0);
      continue;
    }
    const double o = c;
    c = c * std::exp(step(rng));
    const double hi = std::max(o, c) * (1.0 + 0.005 * u(rng));
    const double lo = std::min(o, c) * (1.0 - 0.005 * u(rng));
    b.open.push_back(o);
    b.high.push_back(hi);
    b.low.push_back(lo);
    b.close.push_back(c);
    b.volume.push_back(1000.0 * u(rng) * u(rng));
  }
  return b;
}

// Real 1h bars from the shared Binance Vision mirror (via `unzip -p`); empty
// when the data or unzip is absent.
inline Bars real_bars(const std::string& symbol, const std::vector<std::string>& months) {
  Bars b;
  const char* shared = std::getenv("AF_SHARED_DIR");
  if (!shared) return b;
  for (const auto& m : months) {
    const std::string path = std::string(shared) + "/data/binance-vision/data/futures/um/monthly/klines/" + symbol +
                             "/1h/" + symbol + "-1h-" + m + ".zip";
    if (!std::filesystem::exists(path)) return Bars{};
    const std::string cmd = "unzip -p '" + path + "' 2>/dev/null";
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return Bars{};
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
      if (line[0] < '0' || line[0] > '9') continue;  // header row
      std::stringstream ss(line);
      std::string field;
      std::vector<double> v;
      while (std::getline(ss, field, ',') && v.size() < 6) v.push_back(std::strtod(field.c_str(), nullptr));
      if (v.size() < 6) continue;
      b.open.push_back(v[1]);
      b.high.push_back(v[2]);
      b.low.push_back(v[3]);
      b.close.push_back(v[4]);
      b.volume.push_back(v[5]);
    }
    pclose(f);
  }
  return b;
}

inline Bars real_fil() { return real_bars("FILUSDT", {"2023-08", "2023-09", "2023-10"}); }

}  // namespace af::features::test
