#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "runtime/engine_state.hpp"

#include "test_plan.hpp"

namespace af {
namespace {

using testing::bar_at;

struct Recorded {
  int64_t ts;
  std::string symbol;
  double prediction;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::register_test_plugins(plugins_); }

  std::unique_ptr<Engine> make(std::vector<std::string> universe) {
    auto e = Engine::create(testing::two_frame_plan(std::move(universe)), plugins_,
                            [this](const PredictionRecord& r) { out_.push_back({r.ts, *r.symbol, r.prediction}); });
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return std::move(e).value();
  }

  PluginSet plugins_;
  std::vector<Recorded> out_;
};

TEST_F(EngineTest, ChainsThroughTransformAndEmitsOnlyValidPredictions) {
  auto e = make({"AAA"});
  for (int i = 0; i < 6; ++i) e->on_source_bar(0, 0, bar_at(i * 60'000, i + 1));
  // m2 rows: ts 0 close 2, ts 120000 close 4, ts 240000 close 6 -> csum NaN, 6, 12.
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[0].ts, 120'000);
  EXPECT_DOUBLE_EQ(out_[0].prediction, 60);
  EXPECT_EQ(out_[1].ts, 240'000);
  EXPECT_DOUBLE_EQ(out_[1].prediction, 120);
  EXPECT_EQ(e->emitter().nan_skipped(), 1u);
  EXPECT_EQ(e->stats().derived_bars, 3u);
  EXPECT_EQ(e->stats().max_chain_depth, 1u);
  EXPECT_EQ(e->frame(1).series(0).total_rows(), 3u);
}

TEST_F(EngineTest, WarmupBarsBeforeAnchorEmitNothingButFeedState) {
  auto e = make({"AAA"});
  e->set_anchor(240'000);
  for (int i = 0; i < 6; ++i) e->on_source_bar(0, 0, bar_at(i * 60'000, i + 1));
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].ts, 240'000);
  EXPECT_DOUBLE_EQ(out_[0].prediction, 120);  // cumsum carried over the warmup rows
}

TEST_F(EngineTest, DuplicateIsDroppedAndRevisionIsLoggedNotRetriggered) {
  auto e = make({"AAA"});
  for (int i = 0; i < 4; ++i) e->on_source_bar(0, 0, bar_at(i * 60'000, i + 1));
  const size_t before = out_.size();
  EXPECT_FALSE(e->on_source_bar(0, 0, bar_at(180'000, 4)));   // identical re-delivery
  EXPECT_FALSE(e->on_source_bar(0, 0, bar_at(180'000, 99)));  // different bar, same ts
  EXPECT_FALSE(e->on_source_bar(0, 0, bar_at(0, 1)));         // an old bar
  EXPECT_EQ(out_.size(), before);
  EXPECT_EQ(e->stats().duplicates, 2u);  // the identical re-delivery and the old identical bar
  EXPECT_EQ(e->stats().revisions, 1u);
  EXPECT_EQ(e->frame(0).series(0).total_rows(), 4u);
  EXPECT_EQ(e->frame(0).series(0).value(3, 0), 4);  // the first final version stays
}

TEST_F(EngineTest, SymbolsAreIndependent) {
  auto e = make({"AAA", "BBB"});
  for (int i = 0; i < 4; ++i) {
    e->on_source_bar(0, 0, bar_at(i * 60'000, i + 1));
    e->on_source_bar(0, 1, bar_at(i * 60'000, 100 * (i + 1)));
  }
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[0].symbol, "AAA");
  EXPECT_DOUBLE_EQ(out_[0].prediction, 60);
  EXPECT_EQ(out_[1].symbol, "BBB");
  EXPECT_DOUBLE_EQ(out_[1].prediction, 6000);
}

TEST_F(EngineTest, SnapshotRestoreContinuesExactly) {
  auto straight = make({"AAA", "BBB"});
  for (int i = 0; i < 40; ++i) straight->on_source_bar(0, i % 2, bar_at((i / 2) * 60'000, i * 1.5 + 3));
  std::vector<Recorded> expected = out_;

  out_.clear();
  auto first = make({"AAA", "BBB"});
  for (int i = 0; i < 17; ++i) first->on_source_bar(0, i % 2, bar_at((i / 2) * 60'000, i * 1.5 + 3));
  StateWriter w;
  first->save(w);
  auto second = make({"AAA", "BBB"});
  StateReader r(w.bytes());
  ASSERT_TRUE(second->load(r).ok());
  for (int i = 17; i < 40; ++i) second->on_source_bar(0, i % 2, bar_at((i / 2) * 60'000, i * 1.5 + 3));
  // Re-delivering what the first engine already processed must not emit again.
  second->on_source_bar(0, 0, bar_at(0, 3));
  ASSERT_EQ(out_.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(out_[i].ts, expected[i].ts);
    EXPECT_EQ(out_[i].symbol, expected[i].symbol);
    EXPECT_EQ(out_[i].prediction, expected[i].prediction);
  }
}

// signal --threads: every thread's engine runs a part of the universe; their
// snapshots joined load into engines split any other way (1 or 3 here) and the
// records continue as one engine's would have. Bars interleave symbols, and the
// transform holds half a pair for some symbols at the snapshot.
TEST_F(EngineTest, SnapshotOfEnginesSplitOneWayLoadsIntoEnginesSplitAnother) {
  const std::vector<std::string> all{"AAA", "BBB", "CCC", "DDD"};
  auto feed = [&](Engine& e, int from, int to) {
    for (int i = from; i < to; ++i) {
      const auto& sym = all[static_cast<size_t>(i) % all.size()];
      if (const auto id = e.symbols().find(sym))
        e.on_source_bar(0, *id, bar_at((i / 4) * 60'000, i * 1.5 + 3 + static_cast<double>(i % 3)));
    }
  };
  auto sorted = [](std::vector<Recorded> v) {
    std::sort(v.begin(), v.end(), [](const Recorded& a, const Recorded& b) {
      return std::tie(a.symbol, a.ts) < std::tie(b.symbol, b.ts);
    });
    return v;
  };
  auto straight = make(all);
  feed(*straight, 0, 80);
  const std::vector<Recorded> expected = sorted(out_);
  ASSERT_GT(expected.size(), 20u);

  // Taken by two engines over {AAA, CCC} and {BBB, DDD}, after 37 bars (an odd
  // count per symbol for some: their pair is half full).
  out_.clear();
  auto a = make({"AAA", "CCC"});
  auto b = make({"BBB", "DDD"});
  feed(*a, 0, 37);
  feed(*b, 0, 37);
  std::vector<std::string> parts(2);
  for (int i = 0; i < 2; ++i) {
    StateWriter w;
    (i == 0 ? a : b)->save(w);
    parts[static_cast<size_t>(i)] = w.take();
  }
  const auto joined = join_engine_states(parts);
  ASSERT_TRUE(joined) << joined.error().message;
  const std::vector<Recorded> before = out_;

  for (const auto& split : std::vector<std::vector<std::vector<std::string>>>{
           {all},                                     // one thread
           {{"AAA"}, {"BBB", "CCC"}, {"DDD"}}}) {     // three
    SCOPED_TRACE(split.size());
    out_ = before;
    for (const auto& part : split) {
      auto e = make(part);
      StateReader r(*joined);
      ASSERT_TRUE(e->load(r).ok());
      feed(*e, 37, 80);
      feed(*e, 0, 2);  // re-delivered bars: nothing is emitted twice
    }
    const auto got = sorted(out_);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(got[i].symbol, expected[i].symbol);
      EXPECT_EQ(got[i].ts, expected[i].ts);
      EXPECT_EQ(got[i].prediction, expected[i].prediction) << got[i].symbol << " " << got[i].ts;
    }
  }

  // A snapshot without one of the engine's symbols is refused by name; the
  // same symbol in two parts cannot be joined.
  auto wider = make({"AAA", "CCC", "EEE"});
  StateReader r(parts[0]);
  const Status st = wider->load(r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "snapshot has no state for symbol EEE (symbols changed)");
  const auto twice = join_engine_states({parts[0], parts[0]});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, "symbol AAA is in two snapshots");
}

TEST_F(EngineTest, TruncatedSnapshotIsRejected) {
  auto e = make({"AAA"});
  for (int i = 0; i < 5; ++i) e->on_source_bar(0, 0, bar_at(i * 60'000, i));
  StateWriter w;
  e->save(w);
  std::string bytes = w.take();
  bytes.resize(bytes.size() / 2);
  auto fresh = make({"AAA"});
  StateReader r(bytes);
  EXPECT_FALSE(fresh->load(r).ok());
}

TEST_F(EngineTest, LeadingNanInputsAreSkipped) {
  // Feed a close of NaN first: cumsum must start at the first valid value.
  auto e = make({"AAA"});
  Bar nan_bar = bar_at(0, std::nan(""));
  e->on_source_bar(0, 0, nan_bar);
  e->on_source_bar(0, 0, bar_at(60'000, 1));  // m2 row 0: close 1 (pair close), valid
  for (int i = 2; i < 6; ++i) e->on_source_bar(0, 0, bar_at(i * 60'000, i));
  // m2 closes: 1, 3, 5 -> cumsum NaN (1st valid input), 4, 9.
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_DOUBLE_EQ(out_[0].prediction, 40);
  EXPECT_DOUBLE_EQ(out_[1].prediction, 90);
}

}  // namespace
}  // namespace af
