#include <gtest/gtest.h>

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
      out.push_back(testing::bar_at(ts, static_cast<double>(ts / kMinuteMs) + (symbol == "BBB" ? 1000 : 0)));
    return out;
  }
  Result<std::optional<int64_t>> earliest(const std::string&) override { return std::optional<int64_t>(first); }

  std::vector<Request>& requests;  // owned by the test: the source dies with the replay
  int64_t first = 0;
  int64_t last = 3 * kDayMs;
};

class ReplayDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::register_test_plugins(plugins_);
    registry::Descriptor d = testing::descriptor("data.test", registry::PluginKind::kData);
    plugins_.data.add(d, [this](const DataSourceContext&) -> Result<std::unique_ptr<DataSource>> {
      return {std::make_unique<FakeSource>(requests_)};
    });
  }
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

}  // namespace
}  // namespace af
