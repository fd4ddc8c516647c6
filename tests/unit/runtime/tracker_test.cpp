#include <gtest/gtest.h>

#include "runtime/prediction_emitter.hpp"
#include "runtime/processed_event_tracker.hpp"

namespace af {
namespace {

TEST(ProcessedEventTracker, HighWaterMarkPerEventAndSymbol) {
  ProcessedEventTracker t(2, 3);
  EXPECT_FALSE(t.is_processed(0, 1, 100));
  t.mark_processed(0, 1, 100);
  EXPECT_TRUE(t.is_processed(0, 1, 100));
  EXPECT_TRUE(t.is_processed(0, 1, 50));
  EXPECT_FALSE(t.is_processed(0, 1, 101));
  EXPECT_FALSE(t.is_processed(1, 1, 100));
  EXPECT_FALSE(t.is_processed(0, 2, 100));
}

TEST(PredictionEmitter, AtMostOncePerSymbolAndTsAndNeverNan) {
  std::string dag = "d", frame = "f", col = "c", sym = "S";
  std::vector<int64_t> seen;
  PredictionEmitter e(&dag, &frame, &col, 1, [&](const PredictionRecord& r) { seen.push_back(r.ts); });
  e.offer(&sym, 0, 10, 0.5, BarOrigin::kStream);
  e.offer(&sym, 0, 10, 0.5, BarOrigin::kStream);
  e.offer(&sym, 0, 5, 0.5, BarOrigin::kStream);
  e.offer(&sym, 0, 20, std::nan(""), BarOrigin::kStream);
  e.offer(&sym, 0, 30, -1.0, BarOrigin::kStream);
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 30}));
  EXPECT_EQ(e.nan_skipped(), 1u);
  EXPECT_EQ(e.already_emitted(), 2u);
}

}  // namespace
}  // namespace af
