// Issue 3's end-to-end check: the bilstm example's feature steps replayed over the
// real 15m mirror dump a 2h frame whose OHLCV equals the mirror's own 2h files and
// whose features equal TA-Lib (RSI, SMA-based MA-ROCP, ROCP) or a naive window
// (levels).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "support/process.hpp"

#ifdef AF_HAVE_TALIB
#include <ta_libc.h>
#endif

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::write_file;

const char* kPipeline = R"(name: bilstm_features_it
expand:
  rsi_windows: [6, 12, 24]
  ma_windows: [5, 10, 20, 60]
  level_windows: [10, 20, 60]
  momentum_windows: [1, 4, 12]
signal_generation:
  output_col: mom1
  mode: stream
  warmup: {lookback_days: 10}
  scheduling: {interval: 2h, buffer_minutes: 5}
  on_prediction:
    - using: sinks.csv_append
      params: {path: OUT/predictions.csv}
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv_15m}
      params: {universe: [FILUSDT, NEARUSDT], interval: 15m}
  - transform:
      using: transforms.resample
      inputs: {frame: ohlcv_15m}
      outputs: {frame: ohlcv_2h}
      params: {target_freq: 2h}
  - features:
      using: features.rsi
      inputs: {column: ohlcv_2h.close}
      outputs: {columns: ["rsi{window}"]}
      params: {window: "${expand.rsi_windows}"}
  - features:
      using: features.ma_rocp
      inputs: {column: ohlcv_2h.close}
      outputs: {columns: ["ma{window}rocp"]}
      params: {window: "${expand.ma_windows}", rocp_period: 1, rocp_factor: 10}
  - features:
      using: features.levels
      inputs: {frame: ohlcv_2h}
      outputs: {columns: ["level{window}_pos", "level{window}_support", "level{window}_resistance"]}
      params: {window: "${expand.level_windows}"}
  - features:
      using: features.momentum
      inputs: {column: ohlcv_2h.close}
      outputs: {columns: ["mom{window}"]}
      params: {window: "${expand.momentum_windows}"}
)";

struct Row {
  std::map<std::string, double> v;
};

double num(const std::string& s) { return s.empty() ? std::nan("") : std::stod(s); }

bool near(double a, double b, double rel) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= rel * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

TEST(BilstmFeatures, RealMirror2hFrameEqualsVision2hAndTaLib) {
  const auto mirror = testing::shared_data_dir() / "binance-vision";
  if (!std::filesystem::exists(mirror)) GTEST_SKIP() << "no ../shared/data: real-data test skipped";
  TempDir dir;
  std::string yaml = kPipeline;
  yaml.replace(yaml.find("OUT"), 3, dir.path().string());
  write_file(dir / "p.yaml", yaml);
  auto r = run_command(std::string(AF_BINARY) + " replay " + (dir / "p.yaml") + " --data " + mirror.string() +
                       " --from 2023-08-11 --to 2023-11-01 --dump ohlcv_2h=" + (dir / "2h.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The dump, per symbol in ts order.
  auto lines = split_lines(read_file(dir / "2h.csv"));
  ASSERT_GT(lines.size(), 1u);
  const auto header = split(lines[0], ',');
  std::map<std::string, std::vector<std::string>> ts_of;
  std::map<std::string, std::vector<Row>> rows_of;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    Row row;
    for (size_t c = 2; c < f.size(); ++c) row.v[header[c]] = num(f[c]);
    ts_of[f[1]].push_back(f[0]);
    rows_of[f[1]].push_back(row);
  }
  ASSERT_EQ(rows_of.size(), 2u);

  for (const std::string sym : {"FILUSDT", "NEARUSDT"}) {
    const auto& rows = rows_of[sym];
    // 2023-08-01 (first 15m bar of the mirror) to 2023-10-31 22:00: 92 days of 12 bars.
    ASSERT_EQ(rows.size(), 92u * 12) << sym;

    // OHLCV against the mirror's own 2h files.
    size_t compared = 0;
    for (const std::string month : {"2023-08", "2023-09", "2023-10"}) {
      const std::string zip =
          (mirror / ("data/futures/um/monthly/klines/" + sym + "/2h/" + sym + "-2h-" + month + ".zip")).string();
      auto csv = run_command("unzip -p " + zip);
      ASSERT_EQ(csv.exit_code, 0) << zip;
      for (const auto& line : split_lines(csv.out)) {
        const auto f = split(line, ',');
        if (f.size() < 12 || f[0] == "open_time") continue;
        const int64_t ts = std::stoll(f[0]);
        const size_t i = static_cast<size_t>((ts - 1690848000000) / 7'200'000);  // from 2023-08-01T00:00Z
        ASSERT_LT(i, rows.size());
        const auto& v = rows[i].v;
        EXPECT_EQ(v.at("open"), std::stod(f[1])) << sym << " " << ts;
        EXPECT_EQ(v.at("high"), std::stod(f[2]));
        EXPECT_EQ(v.at("low"), std::stod(f[3]));
        EXPECT_EQ(v.at("close"), std::stod(f[4]));
        EXPECT_EQ(v.at("trades"), std::stod(f[8]));
        EXPECT_TRUE(near(v.at("volume"), std::stod(f[5]), 1e-12)) << sym << " " << ts;
        EXPECT_TRUE(near(v.at("quote_volume"), std::stod(f[7]), 1e-12));
        EXPECT_TRUE(near(v.at("taker_buy_volume"), std::stod(f[9]), 1e-12));
        EXPECT_TRUE(near(v.at("taker_buy_quote_volume"), std::stod(f[10]), 1e-12));
        ++compared;
      }
    }
    EXPECT_EQ(compared, rows.size());

    std::vector<double> close, high, low;
    for (const auto& row : rows) {
      close.push_back(row.v.at("close"));
      high.push_back(row.v.at("high"));
      low.push_back(row.v.at("low"));
    }
    const int n = static_cast<int>(close.size());

    // Levels against a naive window.
    for (int w : {10, 20, 60}) {
      const std::string p = "level" + std::to_string(w);
      for (int i = 0; i < n; ++i) {
        double pos = std::nan(""), sup = std::nan(""), res = std::nan("");
        if (i >= w - 1) {
          double lo = low[i], hi = high[i];
          for (int k = i - w + 1; k <= i; ++k) lo = std::min(lo, low[k]), hi = std::max(hi, high[k]);
          pos = hi == lo ? 0.5 : (close[i] - lo) / (hi - lo);
          sup = close[i] / lo - 1;
          res = hi / close[i] - 1;
        }
        EXPECT_TRUE(near(rows[i].v.at(p + "_pos"), pos, 1e-12)) << sym << " " << p << " row " << i;
        EXPECT_TRUE(near(rows[i].v.at(p + "_support"), sup, 1e-12));
        EXPECT_TRUE(near(rows[i].v.at(p + "_resistance"), res, 1e-12));
      }
    }

#ifdef AF_HAVE_TALIB
    std::vector<double> out(close.size());
    int beg = 0, count = 0;
    for (int w : {6, 12, 24}) {
      ASSERT_EQ(TA_RSI(0, n - 1, close.data(), w, &beg, &count, out.data()), TA_SUCCESS);
      ASSERT_EQ(beg, w);
      for (int i = 0; i < count; ++i)
        EXPECT_TRUE(near(rows[beg + i].v.at("rsi" + std::to_string(w)), out[i], 1e-9)) << sym << " rsi" << w;
    }
    for (int w : {1, 4, 12}) {
      ASSERT_EQ(TA_ROCP(0, n - 1, close.data(), w, &beg, &count, out.data()), TA_SUCCESS);
      for (int i = 0; i < count; ++i)
        EXPECT_TRUE(near(rows[beg + i].v.at("mom" + std::to_string(w)), out[i], 1e-9)) << sym << " mom" << w;
    }
    for (int w : {5, 10, 20, 60}) {
      ASSERT_EQ(TA_SMA(0, n - 1, close.data(), w, &beg, &count, out.data()), TA_SUCCESS);
      for (int i = 1; i < count; ++i) {
        const double expected = (out[i] / out[i - 1] - 1) * 10;
        EXPECT_TRUE(near(rows[beg + i].v.at("ma" + std::to_string(w) + "rocp"), expected, 1e-9)) << sym << " ma" << w;
      }
    }
#endif
  }
}

}  // namespace
}  // namespace af
