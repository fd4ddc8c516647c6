// ThreadedReplay (runtime/threaded_replay.hpp) against run_replay on one thread:
// the same records in the same order and the same report for 2, 3 and 6 threads,
// with symbols that start late (the anchor is the whole universe's), a gap, and
// --gap-policy fail (the same error, after the same records). Runs under
// ThreadSanitizer in scripts/test.sh (runtime_test).
#include "runtime/threaded_replay.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/fnv1a.hpp"
#include "common/interval.hpp"
#include "test_plan.hpp"

namespace af {
namespace {

const std::vector<std::string> kUniverse = {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF"};

// 1m bars of a line per symbol; each symbol starts `start` after day 0 and may
// miss [hole_from, hole_to). Stateless, so any thread may own one.
class LineSource final : public DataSource {
 public:
  Result<std::vector<Bar>> history(const std::string& symbol, int64_t from, int64_t to) override {
    std::vector<Bar> out;
    const int64_t first = start_of(symbol);
    const double offset = static_cast<double>(symbol[0] - 'A') * 100;
    for (int64_t ts = std::max(from, first); ts < std::min<int64_t>(to, 3 * kDayMs); ts += kMinuteMs) {
      if (symbol == "DDD" && ts >= kDayMs + 30 * kMinuteMs && ts < kDayMs + 90 * kMinuteMs) continue;
      out.push_back(testing::bar_at(ts, offset + static_cast<double>((ts / kMinuteMs) % 97)));
    }
    return out;
  }
  Result<std::optional<int64_t>> earliest(const std::string& symbol) override {
    return std::optional<int64_t>(start_of(symbol));
  }
  // EEE and FFF start two hours late: no thread may take its own earliest as the anchor.
  static int64_t start_of(const std::string& symbol) {
    return symbol == "EEE" || symbol == "FFF" ? 2 * kHourMs : 0;
  }
};

struct Outcome {
  std::vector<std::tuple<int64_t, std::string, double>> records;
  std::string error;
  uint64_t history_bars = 0, streamed_bars = 0, gaps = 0, missing = 0;
  int64_t anchor = 0;
};

class ThreadedReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::register_test_plugins(plugins_);
    plugins_.data.add(testing::descriptor("data.test", registry::PluginKind::kData),
                      [](const DataSourceContext&) -> Result<std::unique_ptr<DataSource>> {
                        return {std::make_unique<LineSource>()};
                      });
  }

  Outcome run(uint32_t threads, GapPolicy policy) {
    Outcome out;
    const auto plan = testing::two_frame_plan(kUniverse);
    auto deliver = [&out](const PredictionRecord& r) { out.records.emplace_back(r.ts, *r.symbol, r.prediction); };
    ReplayOptions opt;
    opt.data_dir = "unused";
    opt.gap_policy = policy;
    Result<ReplayReport> report = make_error("not run");
    std::unique_ptr<Engine> engine;
    std::unique_ptr<ThreadedReplay> threaded;
    if (threads == 1) {
      auto e = Engine::create(plan, plugins_, deliver);
      EXPECT_TRUE(e.ok());
      engine = std::move(e).value();
      report = run_replay(*engine, plugins_, opt);
    } else {
      const auto parts = split_universe(plan, threads);
      EXPECT_GT(parts.size(), 1u) << threads << " threads";
      auto t = ThreadedReplay::create(plan, plugins_, parts, deliver);
      EXPECT_TRUE(t.ok());
      threaded = std::move(t).value();
      report = threaded->run(opt);
    }
    if (!report) {
      out.error = report.error().message;
      return out;
    }
    out.history_bars = report->history_bars;
    out.streamed_bars = report->streamed_bars;
    out.gaps = report->gaps.count;
    out.missing = report->gaps.missing_bars;
    out.anchor = report->anchor;
    return out;
  }

  PluginSet plugins_;
};

TEST_F(ThreadedReplayTest, SplitUniverseOwnsEverySymbolOnceByTheShardHash) {
  const auto plan = testing::two_frame_plan(kUniverse);
  for (uint32_t n : {1u, 2u, 3u, 6u, 50u}) {
    const auto parts = split_universe(plan, n);
    EXPECT_LE(parts.size(), std::min<size_t>(n, kUniverse.size()));
    std::set<std::string> seen;
    for (const auto& part : parts) {
      ASSERT_FALSE(part.empty());
      for (const auto& s : part) {
        EXPECT_TRUE(seen.insert(s).second) << s << " twice";
        EXPECT_EQ(replay_thread_of(s, n), replay_thread_of(part.front(), n));
        EXPECT_EQ(replay_thread_of(s, n), fnv1a_64(s) % n);
      }
    }
    EXPECT_EQ(seen.size(), kUniverse.size());
  }
  // Under --shard K/N the hash is divided by N first: a shard's symbols (equal
  // modulo N) still spread over the threads.
  EXPECT_EQ(replay_thread_of("AAA", 3, 2), fnv1a_64("AAA") / 2 % 3);
}

TEST_F(ThreadedReplayTest, SameRecordsInTheSameOrderAndTheSameReport) {
  const Outcome one = run(1, GapPolicy::kBridge);
  ASSERT_EQ(one.error, "");
  ASSERT_GT(one.records.size(), 1000u);
  EXPECT_EQ(one.gaps, 1u);
  EXPECT_EQ(one.anchor, kDayMs);  // the earliest bar of all (0) plus one day
  for (uint32_t n : {2u, 3u, 6u}) {
    const Outcome many = run(n, GapPolicy::kBridge);
    ASSERT_EQ(many.error, "") << n;
    EXPECT_TRUE(many.records == one.records) << n << " threads";
    EXPECT_EQ(many.history_bars, one.history_bars) << n;
    EXPECT_EQ(many.streamed_bars, one.streamed_bars) << n;
    EXPECT_EQ(many.gaps, one.gaps) << n;
    EXPECT_EQ(many.missing, one.missing) << n;
    EXPECT_EQ(many.anchor, one.anchor) << n;
  }
}

TEST_F(ThreadedReplayTest, AFailureStopsWhereOneThreadStops) {
  const Outcome one = run(1, GapPolicy::kFail);
  ASSERT_NE(one.error, "");
  ASSERT_GT(one.records.size(), 100u);
  for (uint32_t n : {2u, 3u, 6u}) {
    const Outcome many = run(n, GapPolicy::kFail);
    EXPECT_EQ(many.error, one.error) << n;
    EXPECT_TRUE(many.records == one.records) << n << " threads: " << many.records.size() << " vs "
                                             << one.records.size();
  }
}

}  // namespace
}  // namespace af
