// Streaming output == naive batch recompute, for every built-in feature, on
// random series (flat stretches, 1e-8 and 1e8 prices), a long series for drift,
// and real Binance closes when the shared data is present. Plus warmup and
// save/load checks driven by each feature's descriptor.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <set>

#include "harness.hpp"

namespace af::features::test {
namespace {

struct Case {
  std::string name;
  ParamMap params;
  std::function<Outputs(const Bars&)> reference;
  double out_scale = 0.0;  // 0: outputs scale with prices; else their fixed magnitude (100 for RSI)
  std::string column = "close";
  std::vector<double> output_scales = {};  // per output, overrides out_scale (bollinger's %b)
};

std::vector<Case> all_cases();

std::string label(const Case& c) {
  std::string s = c.name;
  for (const auto& [k, v] : c.params) s += " " + k + "=" + registry::format_param_value(v);
  return s;
}

// |a - b| <= 1e-12 * (1 + scale), NaN only where the reference is NaN.
void expect_close(const Case& c, const Outputs& got, const Outputs& want, double input_scale, const std::string& what) {
  ASSERT_LE(got.size(), want.size()) << label(c);
  for (size_t i = 0; i < got.size(); ++i) {
    const double fixed = i < c.output_scales.size() ? c.output_scales[i] : c.out_scale;
    const double scale = fixed > 0 ? fixed : input_scale;
    const double tol = 1e-12 * (1.0 + scale);
    for (size_t t = 0; t < got[i].size(); ++t) {
      const double a = got[i][t], b = want[i][t];
      if (std::isnan(b) && std::isnan(a)) continue;
      ASSERT_FALSE(std::isnan(a) != std::isnan(b))
          << label(c) << " " << what << " output " << i << " row " << t << ": got " << a << " want " << b;
      ASSERT_LE(std::fabs(a - b), tol) << label(c) << " " << what << " output " << i << " row " << t << ": got "
                                       << a << " want " << b << " scale " << scale;
    }
  }
}

TEST(FeaturesTest, EveryFeatureHasACase) {
  std::set<std::string> covered;
  for (const auto& c : all_cases()) covered.insert(c.name);
  for (const auto* d : builtin_registry().descriptors()) EXPECT_TRUE(covered.count(d->name)) << d->name;
}

TEST(FeaturesTest, StreamingEqualsBatchOnRandomSeries) {
  for (double scale : {1e-8, 1.0, 1e8}) {
    for (uint64_t seed : {1u, 2u}) {
      const Bars b = random_bars(3000, scale, seed);
      const double mag = b.magnitude();
      for (const auto& c : all_cases()) {
        expect_close(c, run_feature(c.name, c.params, b, c.column), c.reference(b), mag,
                     "scale " + std::to_string(scale) + " seed " + std::to_string(seed));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(FeaturesTest, StreamingEqualsBatchOnRealData) {
  const Bars b = real_fil();
  if (b.size() == 0) GTEST_SKIP() << "no $AF_SHARED_DIR/data (FILUSDT 1h 2023-08..10)";
  ASSERT_GT(b.size(), 2000u);
  for (const auto& c : all_cases()) {
    expect_close(c, run_feature(c.name, c.params, b, c.column), c.reference(b), b.magnitude(), "FILUSDT 1h");
    if (HasFatalFailure()) return;
  }
}

// A million bars: windowed sums must not drift. The operators stream the whole
// series; the naive reference recomputes only the last 4000 bars (a windowed
// feature depends on its window alone), compared after its warmup.
TEST(FeaturesTest, NoDriftOverAMillionBars) {
  const Bars b = random_bars(1'000'000, 1e8, 13);
  const size_t tail = 4000, start = b.size() - tail;
  Bars t;
  for (size_t i = start; i < b.size(); ++i) {
    t.open.push_back(b.open[i]);
    t.high.push_back(b.high[i]);
    t.low.push_back(b.low[i]);
    t.close.push_back(b.close[i]);
    t.volume.push_back(b.volume[i]);
  }
  const std::set<std::string> windowed = {"features.sma", "features.wma", "features.ma_rocp", "features.bollinger",
                                          "features.zscore", "features.volatility", "features.vwap",
                                          "features.volume_ratio", "features.mfi", "features.stochastic",
                                          "features.levels", "features.cci", "features.williams_r"};
  int checked = 0;
  std::set<std::string> done;
  for (const auto& c : all_cases()) {
    if (!windowed.count(c.name) || !done.insert(c.name).second) continue;  // first case of each
    const auto* e = builtin_registry().find(c.name);
    const auto warm = static_cast<size_t>(e->descriptor.warmup_rows(params_for(e->descriptor, c.params)));
    const Outputs full = run_feature(c.name, c.params, b, c.column);
    Outputs got(full.size(), nans(tail)), want = c.reference(t);
    for (size_t i = 0; i < full.size(); ++i)
      for (size_t r = warm; r < tail; ++r) {
        got[i][r] = full[i][start + r];
      }
    for (auto& w : want)
      for (size_t r = 0; r < warm && r < w.size(); ++r) w[r] = kNan;
    expect_close(c, got, want, t.magnitude(), "1e6 bars");
    if (HasFatalFailure()) return;
    ++checked;
  }
  EXPECT_GE(checked, 13);
}

// A NaN inside the input (another feature's division by zero) makes a windowed
// feature NaN exactly while the NaN is in its window, then it recovers: the
// naive references propagate NaN the same way.
TEST(FeaturesTest, NanInputPoisonsOnlyItsWindow) {
  const Bars clean = random_bars(1500, 100.0, 17);
  Bars b = clean;
  for (size_t r : {size_t{500}, size_t{501}, size_t{900}}) {
    b.close[r] = kNan;
    b.volume[r] = kNan;
  }
  const std::set<std::string> windowed_columns = {
      "features.momentum", "features.ma_rocp", "features.sma", "features.wma", "features.bollinger",
      "features.roc", "features.returns", "features.log_returns", "features.volatility", "features.zscore",
      "features.volume_ratio"};
  int checked = 0;
  for (const auto& c : all_cases()) {
    if (!windowed_columns.count(c.name)) continue;
    const Outputs got = run_feature(c.name, c.params, b, c.column);
    expect_close(c, got, c.reference(b), 200.0, "NaN at rows 500, 501, 900");
    if (HasFatalFailure()) return;
    ++checked;
    // Once the NaN has left every window, the outputs are those of the clean series.
    const Outputs ref = run_feature(c.name, c.params, clean, c.column);
    for (size_t i = 0; i < got.size(); ++i)
      for (size_t t = 1000; t < b.size(); ++t) {
        ASSERT_EQ(std::isnan(got[i][t]), std::isnan(ref[i][t])) << label(c) << " row " << t;
        if (!std::isnan(ref[i][t])) {
          ASSERT_NEAR(got[i][t], ref[i][t], 1e-9 * (1 + std::fabs(ref[i][t]))) << label(c);
        }
      }
  }
  EXPECT_GE(checked, 15);
}

// warmup_rows == index of the first valid value of output 0 + 1.
TEST(FeaturesTest, WarmupRowsMatchFirstValidOutput) {
  const Bars b = random_bars(1000, 100.0, 7, false);
  for (const auto& c : all_cases()) {
    const auto* e = builtin_registry().find(c.name);
    const auto p = params_for(e->descriptor, c.params);
    const auto out = run_feature(c.name, c.params, b, c.column);
    size_t first = 0;
    while (first < b.size() && std::isnan(out[0][first])) ++first;
    ASSERT_LT(first, b.size()) << label(c);
    EXPECT_EQ(e->descriptor.warmup_rows(p), static_cast<int64_t>(first) + 1) << label(c);
  }
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }

// Run k bars, save, load into a fresh operator, continue: identical to one run.
TEST(FeaturesTest, SaveLoadContinuesIdentically) {
  const Bars b = random_bars(600, 50.0, 11);
  for (const auto& c : all_cases()) {
    const auto* e = builtin_registry().find(c.name);
    const auto p = params_for(e->descriptor, c.params);
    const int n_out = e->descriptor.max_outputs;
    const auto cols = input_columns(e->descriptor, b, c.column);
    const Outputs whole = run_feature(c.name, c.params, b, c.column);
    const auto warm = static_cast<size_t>(e->descriptor.warmup_rows(p));
    for (size_t k : {size_t{0}, size_t{1}, warm - 1, warm, warm + 3, size_t{317}}) {
      Outputs out(static_cast<size_t>(n_out), nans(b.size()));
      auto f1 = build(c.name, p, n_out);
      stream(*f1, cols, 0, k, out);
      StateWriter w;
      f1->save(w);
      auto f2 = build(c.name, p, n_out);
      StateReader r(w.bytes());
      ASSERT_TRUE(f2->load(r)) << label(c) << " k=" << k;
      EXPECT_TRUE(r.at_end()) << label(c) << " k=" << k;
      stream(*f2, cols, k, b.size(), out);
      for (size_t i = 0; i < out.size(); ++i)
        for (size_t t = 0; t < b.size(); ++t)
          ASSERT_TRUE(same(out[i][t], whole[i][t])) << label(c) << " k=" << k << " output " << i << " row " << t;
    }
    // A truncated snapshot is refused, never read past its end.
    auto f1 = build(c.name, p, n_out);
    Outputs out(static_cast<size_t>(n_out), nans(b.size()));
    stream(*f1, cols, 0, 100, out);
    StateWriter w;
    f1->save(w);
    const std::string bytes = w.bytes().substr(0, w.bytes().size() - 1);
    StateReader r(bytes);
    EXPECT_FALSE(build(c.name, p, n_out)->load(r)) << label(c);
  }
}

// Fewer outputs than the maximum: the first ones are the same values.
TEST(FeaturesTest, FewerOutputsGiveTheSameLeadingColumns) {
  const Bars b = random_bars(400, 10.0, 5);
  for (const auto& c : all_cases()) {
    const auto* e = builtin_registry().find(c.name);
    if (e->descriptor.min_outputs == e->descriptor.max_outputs) continue;
    const auto p = params_for(e->descriptor, c.params);
    const Outputs whole = run_feature(c.name, c.params, b, c.column);
    const int n_out = e->descriptor.min_outputs;
    auto f = build(c.name, p, n_out);
    Outputs out(static_cast<size_t>(n_out), nans(b.size()));
    stream(*f, input_columns(e->descriptor, b, c.column), 0, b.size(), out);
    for (size_t i = 0; i < out.size(); ++i)
      for (size_t t = 0; t < b.size(); ++t) ASSERT_TRUE(same(out[i][t], whole[i][t])) << label(c);
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  v.push_back({"features.momentum", {{"window", int64_t{1}}}, [](const Bars& b) { return ref_momentum(b, 1); }, 1});
  v.push_back({"features.momentum", {{"window", int64_t{24}}}, [](const Bars& b) { return ref_momentum(b, 24); }, 1});
  for (int64_t w : {2, 6, 14, 24})
    v.push_back({"features.rsi", {{"window", w}}, [w](const Bars& b) { return ref_rsi(b, static_cast<size_t>(w)); }, 100});
  for (int64_t w : {1, 5, 60})
    v.push_back({"features.ma_rocp", {{"window", w}},
                 [w](const Bars& b) { return ref_ma_rocp(b, static_cast<size_t>(w), 1, 1.0); }, 1});
  v.push_back({"features.ma_rocp", {{"window", int64_t{10}}, {"rocp_period", int64_t{3}}, {"rocp_factor", 100.0}},
               [](const Bars& b) { return ref_ma_rocp(b, 10, 3, 100.0); }, 100});
  for (int64_t w : {1, 10, 60})
    v.push_back({"features.levels", {{"window", w}}, [w](const Bars& b) { return ref_levels(b, static_cast<size_t>(w)); }, 1});
  auto sz = [](int64_t w) { return static_cast<size_t>(w); };
  for (int64_t w : {1, 20})
    v.push_back({"features.sma", {{"window", w}}, [=](const Bars& b) { return Outputs{ref_sma(b.close, sz(w))}; }});
  for (int64_t w : {1, 12, 30})
    v.push_back({"features.ema", {{"window", w}}, [=](const Bars& b) { return Outputs{ref_ema(b.close, sz(w))}; }});
  for (int64_t w : {1, 9, 30}) v.push_back({"features.wma", {{"window", w}}, [=](const Bars& b) { return ref_wma(b, sz(w)); }});
  for (int64_t w : {2, 30}) v.push_back({"features.dema", {{"window", w}}, [=](const Bars& b) { return ref_dema(b, sz(w)); }});
  for (int64_t w : {2, 30}) v.push_back({"features.tema", {{"window", w}}, [=](const Bars& b) { return ref_tema(b, sz(w)); }});
  v.push_back({"features.macd", {}, [](const Bars& b) { return ref_macd(b, 12, 26, 9); }});
  v.push_back({"features.macd", {{"fast", int64_t{3}}, {"slow", int64_t{10}}, {"signal", int64_t{1}}},
               [](const Bars& b) { return ref_macd(b, 3, 10, 1); }});
  v.push_back({"features.bollinger", {}, [](const Bars& b) { return ref_bollinger(b, 20, 2, 2); }, 0, "close", {0, 0, 0, 1}});
  v.push_back({"features.bollinger", {{"window", int64_t{5}}, {"nbdev_up", 1.0}, {"nbdev_dn", 3.0}},
               [](const Bars& b) { return ref_bollinger(b, 5, 1, 3); }, 0, "close", {0, 0, 0, 1}});
  for (int64_t w : {1, 14}) {
    v.push_back({"features.atr", {{"window", w}}, [=](const Bars& b) { return ref_atr(b, sz(w), false); }});
    v.push_back({"features.natr", {{"window", w}}, [=](const Bars& b) { return ref_atr(b, sz(w), true); }, 100});
  }
  v.push_back({"features.stochastic", {}, [](const Bars& b) { return ref_stochastic(b, 5, 3, 3); }, 100});
  v.push_back({"features.stochastic", {{"fastk", int64_t{14}}, {"slowk", int64_t{1}}, {"slowd", int64_t{5}}},
               [](const Bars& b) { return ref_stochastic(b, 14, 1, 5); }, 100});
  for (int64_t w : {1, 14})
    v.push_back({"features.williams_r", {{"window", w}}, [=](const Bars& b) { return ref_williams_r(b, sz(w)); }, 100});
  for (int64_t w : {2, 20}) v.push_back({"features.cci", {{"window", w}}, [=](const Bars& b) { return ref_cci(b, sz(w)); }, 1000});  // |cci| reaches 66.7*(window-1)
  for (int64_t w : {2, 14}) v.push_back({"features.adx", {{"window", w}}, [=](const Bars& b) { return ref_adx(b, sz(w)); }, 100});
  v.push_back({"features.obv", {}, [](const Bars& b) { return ref_obv(b); }, 1e6});
  for (int64_t w : {1, 14}) v.push_back({"features.mfi", {{"window", w}}, [=](const Bars& b) { return ref_mfi(b, sz(w)); }, 100});
  for (int64_t w : {1, 10}) v.push_back({"features.roc", {{"window", w}}, [=](const Bars& b) { return ref_roc(b, sz(w)); }, 100});
  v.push_back({"features.returns", {}, [](const Bars& b) { return ref_momentum(b, 1); }, 1});
  v.push_back({"features.log_returns", {}, [](const Bars& b) { return ref_log_returns(b); }, 1});
  v.push_back({"features.volatility", {}, [](const Bars& b) { return ref_volatility(b, 20, 1, 1.0); }, 1});
  v.push_back({"features.volatility", {{"window", int64_t{5}}, {"sample", false}, {"annualize", true}, {"periods_per_year", 365.0}},
               [](const Bars& b) { return ref_volatility(b, 5, 0, std::sqrt(365.0)); }, 1});
  v.push_back({"features.zscore", {}, [](const Bars& b) { return ref_zscore(b, 20, 0); }, 1});
  v.push_back({"features.zscore", {{"window", int64_t{7}}, {"sample", true}}, [](const Bars& b) { return ref_zscore(b, 7, 1); }, 1});
  for (int64_t w : {1, 20}) v.push_back({"features.vwap", {{"window", w}}, [=](const Bars& b) { return ref_vwap(b, sz(w)); }});
  for (int64_t w : {1, 20})
    v.push_back({"features.volume_ratio", {{"window", w}}, [=](const Bars& b) { return ref_volume_ratio(b, sz(w)); }, 10, "volume"});
  return v;
}

}  // namespace
}  // namespace af::features::test
