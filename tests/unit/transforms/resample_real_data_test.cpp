// Resampling the reference mirror's files reproduces its coarser files
// ($AF_SHARED_DIR/data; skipped when absent). The mirror's coarse files are the
// exact decimal aggregation of its 1m files, as Binance's own are.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "collector.hpp"
#include "common/interval.hpp"
#include "common/time.hpp"
#include "vision/vision_source.hpp"
#include "transforms/resample.hpp"

namespace af::transforms {
namespace {

std::string mirror() {
  const char* s = std::getenv("AF_SHARED_DIR");
  if (s == nullptr) return {};
  const std::string d = std::string(s) + "/data/binance-vision";
  return std::filesystem::exists(d) ? d : std::string();
}

void expect_close_rel(double got, double want, const char* what, int64_t ts) {
  const double tol = 1e-12 * std::max(std::abs(want), 1e-300);
  EXPECT_LE(std::abs(got - want), tol) << what << " at " << format_iso8601(ts) << ": " << got << " vs " << want;
}

void check(const std::string& root, const std::string& symbol, int64_t fine_ms, int64_t coarse_ms, const char* from,
           const char* to) {
  const int64_t f = *parse_iso8601(from), t = *parse_iso8601(to);
  vision::VisionSource fine_src(root, vision::VisionMarket::kFuturesUm, fine_ms);
  vision::VisionSource coarse_src(root, vision::VisionMarket::kFuturesUm, coarse_ms);
  auto fine = fine_src.history(symbol, f, t);
  auto coarse = coarse_src.history(symbol, f, t);
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  ASSERT_TRUE(coarse.ok()) << coarse.error().message;
  Resample r(fine_ms, coarse_ms, 1);
  test::Collector out;
  for (const Bar& b : *fine) r.on_bar(0, b, out);
  ASSERT_EQ(out.rows.size(), coarse->size()) << symbol;
  for (size_t i = 0; i < coarse->size(); ++i) {
    const Bar& g = out.rows[i].bar;
    const Bar& w = (*coarse)[i];
    ASSERT_EQ(g.ts, w.ts);
    ASSERT_TRUE(g.complete) << format_iso8601(g.ts);
    ASSERT_EQ(g.open, w.open) << format_iso8601(g.ts);
    ASSERT_EQ(g.high, w.high) << format_iso8601(g.ts);
    ASSERT_EQ(g.low, w.low) << format_iso8601(g.ts);
    ASSERT_EQ(g.close, w.close) << format_iso8601(g.ts);
    ASSERT_EQ(g.trades, w.trades) << format_iso8601(g.ts);
    expect_close_rel(g.volume, w.volume, "volume", g.ts);
    expect_close_rel(g.quote_volume, w.quote_volume, "quote_volume", g.ts);
    expect_close_rel(g.taker_buy_volume, w.taker_buy_volume, "taker_buy_volume", g.ts);
    expect_close_rel(g.taker_buy_quote_volume, w.taker_buy_quote_volume, "taker_buy_quote_volume", g.ts);
  }
}

TEST(ResampleRealData, Mirror15mTo2hReproducesThe2hFiles) {
  const std::string root = mirror();
  if (root.empty()) GTEST_SKIP() << "no $AF_SHARED_DIR/data (reference data absent)";
  for (const char* sym : {"FILUSDT", "NEARUSDT"}) {
    check(root, sym, 15 * kMinuteMs, 2 * kHourMs, "2023-08-01", "2023-11-01");
  }
}

TEST(ResampleRealData, Mirror1mTo1hOneMonth) {
  const std::string root = mirror();
  if (root.empty()) GTEST_SKIP() << "no $AF_SHARED_DIR/data (reference data absent)";
  check(root, "FILUSDT", kMinuteMs, kHourMs, "2023-09-01", "2023-10-01");
}

}  // namespace
}  // namespace af::transforms
