#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <utility>

#include "common/interval.hpp"
#include "runtime/replay_driver.hpp"
#include "test_plan.hpp"

namespace af {
namespace {

TEST(HistoryStart, MovesUpToTheCoarsestBoundary) {
  const int64_t a = 10 * kHourMs + 30 * kMinuteMs;  // 1970-01-01T10:30
  EXPECT_EQ(history_start_for(a + kDayMs, 1, 2 * kHourMs), 12 * kHourMs);
  EXPECT_EQ(history_start_for(a + kDayMs, 1, 30 * kMinuteMs), a);  // already on a boundary
  EXPECT_EQ(history_start_for(kDayMs * 3, 2, kDayMs), kDayMs);
}

struct Request {
  std::string symbol;
  int64_t from, to;
};

// Serves a straight line of 1m bars and records what was asked of it.
class FakeSource final : public DataSource {
 public:
  explicit FakeSource(std::vector<Request>& log) : requests(log) {}
  Result<std::vector<Bar>> history(const std::string& symbol, int64_t from, int64_t to) override {
    requests.push_back({symbol, from, to});
    std::vector<Bar> out;
    for (int64_t ts = std::max<int64_t>(from, first); ts < std::min<int64_t>(to, last); ts += kMinuteMs)
      if (symbol != hole_symbol || ts < hole_from || ts >= hole_to)
        out.push_back(testing::bar_at(ts, static_cast<double>(ts / kMinuteMs) + (symbol == "BBB" ? 1000 : 0)));
    return out;
  }
  Result<std::optional<int64_t>> earliest(const std::string&) override { return std::optional<int64_t>(first); }

  std::vector<Request>& requests;  // owned by the test: the source dies with the replay
  int64_t first = 0;
  int64_t last = 3 * kDayMs;
  // Bars [hole_from, hole_to) of hole_symbol are missing (a gap).
  std::string hole_symbol;
  int64_t hole_from = 0;
  int64_t hole_to = 0;
};

class ReplayDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::register_test_plugins(plugins_);
    registry::Descriptor d = testing::descriptor("data.test", registry::PluginKind::kData);
    plugins_.data.add(d, [this](const DataSourceContext&) -> Result<std::unique_ptr<DataSource>> {
      auto src = std::make_unique<FakeSource>(requests_);
      src->first = first_;
      src->hole_symbol = hole_symbol_;
      src->hole_from = hole_from_;
      src->hole_to = hole_to_;
      return {std::move(src)};
    });
  }

  struct Prediction {
    int64_t ts;
    std::string symbol;
    double value;
    bool operator==(const Prediction&) const = default;
    friend void PrintTo(const Prediction& p, std::ostream* os) {
      *os << p.symbol << '@' << p.ts / kMinuteMs << "m=" << p.value;
    }
  };
  // Replays `plan` with `policy`, returning every prediction.
  std::vector<Prediction> predictions(const dag::Plan& plan, GapPolicy policy, uint64_t expected_gaps) {
    std::vector<Prediction> out;
    auto e = Engine::create(plan, plugins_, [&out](const PredictionRecord& r) {
      out.push_back({r.ts, *r.symbol, r.prediction});
    });
    EXPECT_TRUE(e.ok());
    if (!e.ok()) return out;
    ReplayOptions opt;
    opt.data_dir = "unused";
    opt.gap_policy = policy;
    auto report = run_replay(**e, plugins_, opt);
    EXPECT_TRUE(report.ok()) << report.error().message;
    if (report.ok()) {
      EXPECT_EQ(report->gaps.count, expected_gaps);
    }
    return out;
  }
  // The predictions of `symbol` with ts in [from, to).
  static std::vector<Prediction> of(const std::vector<Prediction>& all, const std::string& symbol, int64_t from,
                                    int64_t to = std::numeric_limits<int64_t>::max()) {
    std::vector<Prediction> out;
    for (const auto& p : all)
      if (p.symbol == symbol && p.ts >= from && p.ts < to) out.push_back(p);
    return out;
  }

  int64_t first_ = 0;
  std::string hole_symbol_;
  int64_t hole_from_ = 0;
  int64_t hole_to_ = 0;
  PluginSet plugins_;
  std::vector<Request> requests_;
  std::vector<std::pair<int64_t, std::string>> out_;
};

TEST_F(ReplayDriverTest, AnchorHistoryAndStreamedBars) {
  auto plan = testing::two_frame_plan({"AAA", "BBB"});
  auto e = Engine::create(plan, plugins_, [this](const PredictionRecord& r) { out_.push_back({r.ts, *r.symbol}); });
  ASSERT_TRUE(e.ok());
  ReplayOptions opt;
  opt.data_dir = "unused";
  opt.from = kDayMs + 7 * kMinuteMs;  // not on a 2m boundary
  opt.to = kDayMs + 60 * kMinuteMs;
  auto report = run_replay(**e, plugins_, opt);
  ASSERT_TRUE(report.ok()) << report.error().message;
  // lookback 1 day before A = 00:07 -> 00:07 of day 0, moved up to the 2m grid: 00:08.
  EXPECT_EQ(report->history_start, 8 * kMinuteMs);
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[0].from, 8 * kMinuteMs);
  EXPECT_EQ(requests_[0].to, *opt.to);
  EXPECT_EQ(report->history_bars, 2u * (kDayMs - kMinuteMs) / kMinuteMs);
  EXPECT_EQ(report->streamed_bars, 2u * 53);
  // Predictions only for 2m rows whose completing 1m bar is streamed (ts >= A):
  // the pair [00:06, 00:07] completes at the streamed 00:07 bar; then 00:08 ... 00:58.
  ASSERT_FALSE(out_.empty());
  EXPECT_EQ(out_.front().first, kDayMs + 6 * kMinuteMs);
  EXPECT_EQ(out_.back().first, kDayMs + 58 * kMinuteMs);
  EXPECT_EQ(out_.size(), 2u * 27);
  // Symbols alternate: bars are fed by close time, then symbol.
  EXPECT_EQ(out_[0].second, "AAA");
  EXPECT_EQ(out_[1].second, "BBB");
}

TEST_F(ReplayDriverTest, DefaultAnchorIsEarliestPlusLookback) {
  auto plan = testing::two_frame_plan({"AAA"});
  auto e = Engine::create(plan, plugins_, [this](const PredictionRecord& r) { out_.push_back({r.ts, *r.symbol}); });
  ASSERT_TRUE(e.ok());
  ReplayOptions opt;
  opt.data_dir = "unused";
  auto report = run_replay(**e, plugins_, opt);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->anchor, kDayMs);
  EXPECT_EQ(report->history_start, 0);
  EXPECT_EQ(report->streamed_bars, static_cast<uint64_t>(2 * kDayMs / kMinuteMs));
}

TEST_F(ReplayDriverTest, ToBeforeFromIsAnError) {
  auto e = Engine::create(testing::two_frame_plan({"AAA"}), plugins_, nullptr);
  ASSERT_TRUE(e.ok());
  ReplayOptions opt;
  opt.from = kDayMs;
  opt.to = kDayMs;
  auto report = run_replay(**e, plugins_, opt);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message, "--to 1970-01-02T00:00:00Z is not after the start 1970-01-02T00:00:00Z");
}

// AAA misses 7 hours of bars in the middle of the streamed range. With
// --gap-policy reset its predictions after the hole are those of a replay whose
// data begins after the hole; BBB, without a hole, is unaffected. With bridge the
// running sum carries across, so AAA's predictions after the hole differ.
TEST_F(ReplayDriverTest, GapPolicyResetStartsTheSymbolAfreshAfterTheGap) {
  hole_symbol_ = "AAA";
  hole_from_ = kDayMs + 301 * kMinuteMs;  // an odd bar: the pair transform holds one bar of AAA at the hole
  hole_to_ = kDayMs + 720 * kMinuteMs;  // on the 2m grid, as a replay starting there begins
  const auto plan = testing::two_frame_plan({"AAA", "BBB"});
  const auto reset = predictions(plan, GapPolicy::kReset, 1);
  const auto bridge = predictions(plan, GapPolicy::kBridge, 1);

  // The same data from just after the hole on, without a lookback (streamed from its first bar).
  first_ = hole_to_;
  hole_symbol_.clear();
  auto after_plan = testing::two_frame_plan({"AAA"});
  after_plan.lookback_days = 0;
  const auto after = predictions(after_plan, GapPolicy::kBridge, 0);

  ASSERT_FALSE(after.empty());
  // csum needs 2 rows of 2m: the first prediction after the hole is at its second pair.
  EXPECT_EQ(after.front().ts, hole_to_ + 2 * kMinuteMs);
  EXPECT_EQ(of(reset, "AAA", hole_from_), after);
  EXPECT_NE(of(bridge, "AAA", hole_to_), after);
  // Before the hole both policies agree: 150 pairs from the anchor to the held bar,
  // which bridge pairs with the first bar after the hole and reset drops.
  const int64_t held = hole_from_ - kMinuteMs;
  EXPECT_EQ(of(reset, "AAA", 0, hole_from_).size(), 150u);
  EXPECT_EQ(of(reset, "AAA", 0, hole_from_), of(bridge, "AAA", 0, held));
  EXPECT_EQ(of(bridge, "AAA", held, hole_from_).size(), 1u);
  EXPECT_EQ(of(reset, "BBB", 0).size(), 2u * kDayMs / (2 * kMinuteMs));
  EXPECT_EQ(of(reset, "BBB", 0), of(bridge, "BBB", 0));
}

// Series out of lockstep (BBB misses 5 hours, then rejoins) still run in close
// order: by close time, then by symbol, so predictions come out sorted that way.
TEST_F(ReplayDriverTest, SeriesOutOfLockstepRunInCloseOrder) {
  hole_symbol_ = "BBB";
  hole_from_ = kDayMs + 100 * kMinuteMs;  // on the 2m grid: no bar is held across the hole
  hole_to_ = kDayMs + 400 * kMinuteMs;
  const auto out = predictions(testing::two_frame_plan({"AAA", "BBB", "CCC"}), GapPolicy::kBridge, 1);
  ASSERT_FALSE(out.empty());
  const std::map<std::string, int> rank{{"AAA", 0}, {"BBB", 1}, {"CCC", 2}};
  for (size_t i = 1; i < out.size(); ++i) {
    ASSERT_LT(std::make_pair(out[i - 1].ts, rank.at(out[i - 1].symbol)), std::make_pair(out[i].ts, rank.at(out[i].symbol)))
        << "prediction " << i;
  }
  EXPECT_EQ(of(out, "AAA", 0).size(), 2u * kDayMs / (2 * kMinuteMs));
  EXPECT_EQ(of(out, "CCC", 0), [&] {
    auto aaa = of(out, "AAA", 0);
    for (auto& p : aaa) p.symbol = "CCC";
    return aaa;
  }());
  EXPECT_EQ(of(out, "BBB", hole_from_, hole_to_).size(), 0u);
  EXPECT_FALSE(of(out, "BBB", hole_to_).empty());
}

TEST_F(ReplayDriverTest, GapPolicyFailStopsAtTheFirstGap) {
  hole_symbol_ = "AAA";
  hole_from_ = kDayMs + 300 * kMinuteMs;
  hole_to_ = kDayMs + 302 * kMinuteMs;
  auto e = Engine::create(testing::two_frame_plan({"AAA"}), plugins_, nullptr);
  ASSERT_TRUE(e.ok());
  ReplayOptions opt;
  opt.gap_policy = GapPolicy::kFail;
  auto report = run_replay(**e, plugins_, opt);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message,
            "gap in the data: AAA misses 2 bars 1970-01-02T05:00:00Z .. 1970-01-02T05:01:00Z (2 minutes) "
            "(--gap-policy fail)");
}

}  // namespace
}  // namespace af
