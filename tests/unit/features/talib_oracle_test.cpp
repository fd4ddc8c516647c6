// The TA-Lib families against TA-Lib itself (built by tools/talib/build_talib.sh
// from the C sources npm's talib@2.0.5 bundles), on random series and on real
// FILUSDT 1h closes: same first valid row (TA-Lib's lookback) and values within
// 1e-9 relative after it.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "harness.hpp"
#include "ta_libc.h"

namespace af::features::test {
namespace {

struct TaOut {
  int beg = 0;
  int count = 0;
  std::vector<Series> values;  // values[k][i] is row beg + i
};

// Compares output `k` of a feature with TA-Lib's output `ta_k`.
void expect_matches_talib(const std::string& what, const Series& ours, const TaOut& ta, size_t ta_k) {
  ASSERT_GT(ta.count, 0) << what;
  size_t first = 0;
  while (first < ours.size() && std::isnan(ours[first])) ++first;
  EXPECT_EQ(first, static_cast<size_t>(ta.beg)) << what << ": first valid row (TA-Lib lookback)";
  ASSERT_EQ(ours.size(), static_cast<size_t>(ta.beg + ta.count)) << what;
  for (int i = 0; i < ta.count; ++i) {
    const double a = ours[static_cast<size_t>(ta.beg + i)], b = ta.values[ta_k][static_cast<size_t>(i)];
    ASSERT_LE(std::fabs(a - b), 1e-9 * std::max(1.0, std::fabs(b)))
        << what << " row " << ta.beg + i << ": ours " << a << " TA-Lib " << b;
  }
}

TaOut ta_call(size_t n, size_t outputs, const std::function<TA_RetCode(int*, int*, std::vector<double*>&)>& f) {
  TaOut r;
  r.values.assign(outputs, Series(n, kNan));
  std::vector<double*> ptrs;
  for (auto& v : r.values) ptrs.push_back(v.data());
  EXPECT_EQ(f(&r.beg, &r.count, ptrs), TA_SUCCESS);
  return r;
}

void compare_all(const Bars& b, const std::string& where) {
  const int end = static_cast<int>(b.size()) - 1;
  const size_t n = b.size();
  const double *hi = b.high.data(), *lo = b.low.data(), *cl = b.close.data(), *vo = b.volume.data();
  auto one = [&](const std::string& name, const ParamMap& params, size_t k, const TaOut& ta, size_t ta_k = 0) {
    const auto ours = run_feature(name, params, b);
    expect_matches_talib(where + " " + name + " output " + std::to_string(k), ours[k], ta, ta_k);
  };
  for (int w : {1, 10}) {
    one("features.momentum", {{"window", int64_t{w}}}, 0,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_ROCP(0, end, cl, w, bi, c, o[0]); }));
    one("features.roc", {{"window", int64_t{w}}}, 0,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_ROC(0, end, cl, w, bi, c, o[0]); }));
  }
  one("features.returns", {}, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_ROCP(0, end, cl, 1, bi, c, o[0]); }));
  for (int w : {2, 6, 14, 24})
    one("features.rsi", {{"window", int64_t{w}}}, 0,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_RSI(0, end, cl, w, bi, c, o[0]); }));
  for (int w : {2, 5, 30}) {
    const ParamMap p{{"window", int64_t{w}}};
    one("features.sma", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_SMA(0, end, cl, w, bi, c, o[0]); }));
    one("features.ema", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_EMA(0, end, cl, w, bi, c, o[0]); }));
    one("features.wma", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_WMA(0, end, cl, w, bi, c, o[0]); }));
    one("features.dema", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_DEMA(0, end, cl, w, bi, c, o[0]); }));
    one("features.tema", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_TEMA(0, end, cl, w, bi, c, o[0]); }));
    one("features.atr", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_ATR(0, end, hi, lo, cl, w, bi, c, o[0]); }));
    one("features.natr", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_NATR(0, end, hi, lo, cl, w, bi, c, o[0]); }));
    one("features.williams_r", p, 0,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_WILLR(0, end, hi, lo, cl, w, bi, c, o[0]); }));
    one("features.mfi", p, 0,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_MFI(0, end, hi, lo, cl, vo, w, bi, c, o[0]); }));
    one("features.adx", p, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_ADX(0, end, hi, lo, cl, w, bi, c, o[0]); }));
    one("features.adx", p, 1,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_PLUS_DI(0, end, hi, lo, cl, w, bi, c, o[0]); }));
    one("features.adx", p, 2,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_MINUS_DI(0, end, hi, lo, cl, w, bi, c, o[0]); }));
  }
  // (TA-Lib's MACD with signal 1 is misaligned: its EMA lookback of period 1 is -1.)
  // CCI from 5 bars: with 2 bars, typical prices 1 ulp apart (real FILUSDT row
  // 1065) make TA-Lib's rounded mean give 133.3 where the exact answer is 66.7.
  for (int w : {5, 14, 30})
    one("features.cci", {{"window", int64_t{w}}}, 0,
        ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_CCI(0, end, hi, lo, cl, w, bi, c, o[0]); }));
  for (auto [f, s, g] : {std::tuple{12, 26, 9}, std::tuple{3, 10, 2}, std::tuple{5, 35, 5}}) {
    const ParamMap p{{"fast", int64_t{f}}, {"slow", int64_t{s}}, {"signal", int64_t{g}}};
    const auto ta = ta_call(n, 3, [&](int* bi, int* c, auto& o) { return TA_MACD(0, end, cl, f, s, g, bi, c, o[0], o[1], o[2]); });
    for (size_t k = 0; k < 3; ++k) one("features.macd", p, k, ta, k);
  }
  for (auto [w, up, dn] : {std::tuple{20, 2.0, 2.0}, std::tuple{5, 1.0, 3.0}}) {
    const ParamMap p{{"window", int64_t{w}}, {"nbdev_up", up}, {"nbdev_dn", dn}};
    const auto ta = ta_call(n, 3, [&](int* bi, int* c, auto& o) {
      return TA_BBANDS(0, end, cl, w, up, dn, TA_MAType_SMA, bi, c, o[0], o[1], o[2]);
    });
    for (size_t k = 0; k < 3; ++k) one("features.bollinger", p, k, ta, k);
  }
  for (auto [fk, sk, sd] : {std::tuple{5, 3, 3}, std::tuple{14, 1, 5}}) {
    const ParamMap p{{"fastk", int64_t{fk}}, {"slowk", int64_t{sk}}, {"slowd", int64_t{sd}}};
    const auto ta = ta_call(n, 2, [&](int* bi, int* c, auto& o) {
      return TA_STOCH(0, end, hi, lo, cl, fk, sk, TA_MAType_SMA, sd, TA_MAType_SMA, bi, c, o[0], o[1]);
    });
    for (size_t k = 0; k < 2; ++k) one("features.stochastic", p, k, ta, k);
  }
  one("features.obv", {}, 0, ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_OBV(0, end, cl, vo, bi, c, o[0]); }));
  // ma_rocp = ROCP(SMA(close, w), p) * f, composed from TA-Lib's SMA and ROCP.
  for (auto [w, p, f] : {std::tuple{5, 1, 1.0}, std::tuple{20, 3, 100.0}}) {
    const auto sma = ta_call(n, 1, [&](int* bi, int* c, auto& o) { return TA_SMA(0, end, cl, w, bi, c, o[0]); });
    TaOut ta = ta_call(n, 1, [&](int* bi, int* c, auto& o) {
      return TA_ROCP(0, sma.count - 1, sma.values[0].data(), p, bi, c, o[0]);
    });
    ta.beg += sma.beg;
    for (auto& v : ta.values[0]) v *= f;
    one("features.ma_rocp", {{"window", int64_t{w}}, {"rocp_period", int64_t{p}}, {"rocp_factor", f}}, 0, ta);
  }
}

class TalibOracle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(TA_Initialize(), TA_SUCCESS); }
};

TEST_F(TalibOracle, RandomSeries) {
  for (uint64_t seed : {3u, 4u, 5u}) {
    compare_all(random_bars(3000, 100.0, seed, false), "random seed " + std::to_string(seed));
    if (HasFatalFailure()) return;
  }
}

TEST_F(TalibOracle, RealFilusdtHourly) {
  const Bars b = real_fil();
  if (b.size() == 0) GTEST_SKIP() << "no $AF_SHARED_DIR/data (FILUSDT 1h 2023-08..10)";
  compare_all(b, "FILUSDT 1h");
}

}  // namespace
}  // namespace af::features::test
