// The Engine's timer.<interval> and signal.generated events and the chain guard
// (DESIGN §2), over the hand-built two-frame plan of test_plan.hpp.
#include <gtest/gtest.h>

#include <cmath>

#include "test_plan.hpp"

namespace af {
namespace {

using testing::bar_at;

struct Recorded {
  int64_t ts;
  std::string symbol;
  double prediction;
  bool operator==(const Recorded&) const = default;
};

// prediction = the named column of the newest row + 1 (a second-stage model).
class PlusOne final : public Model {
 public:
  explicit PlusOne(int column) : column_(column) {}
  int64_t window() const override { return 1; }
  double predict(SymbolId, const SymbolSeries& s) override { return s.value(static_cast<size_t>(column_), 0) + 1; }

 private:
  int column_;
};

int column_of(const ModelContext& c, const std::string& name) {
  for (size_t i = 0; i < c.frame_columns.size(); ++i)
    if (c.frame_columns[i] == name) return static_cast<int>(i);
  return -1;
}

constexpr int64_t kMin = 60'000;

class EngineEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::register_test_plugins(plugins_);
    plugins_.models.add(testing::descriptor("models.pred_plus_one", registry::PluginKind::kModel),
                        [](const ModelContext& c) -> Result<std::unique_ptr<Model>> {
                          return {std::make_unique<PlusOne>(column_of(c, "pred"))};
                        });
    plugins_.models.add(testing::descriptor("models.stage2_plus_one", registry::PluginKind::kModel),
                        [](const ModelContext& c) -> Result<std::unique_ptr<Model>> {
                          return {std::make_unique<PlusOne>(column_of(c, "stage2"))};
                        });
  }

  std::unique_ptr<Engine> make(const dag::Plan& plan, std::vector<Recorded>& out) {
    auto e = Engine::create(plan, plugins_,
                            [&out](const PredictionRecord& r) { out.push_back({r.ts, *r.symbol, r.prediction}); });
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return std::move(e).value();
  }

  // The model (step 3) runs on timer.2m only, not on m2's rows.
  static dag::Plan timer_plan(std::vector<std::string> universe, int64_t buffer_minutes = 0) {
    dag::Plan p = testing::two_frame_plan(std::move(universe));
    p.steps[3].on = {"timer.2m"};
    p.flows[1].steps = {2};
    p.timers = {dag::TimerFlow{"timer.2m", 2 * kMin, {3}}};
    p.prediction_step = 3;
    p.buffer_minutes = buffer_minutes;
    return p;
  }

  // Adds model step 4 (`stage2` = pred + 1) on signal.generated; the emitted column is stage2.
  static dag::Plan signal_plan(std::vector<std::string> universe) {
    dag::Plan p = testing::two_frame_plan(std::move(universe));
    p.frames[1].columns.push_back("stage2");  // column 11
    dag::StepPlan stage2;
    stage2.id = 4;
    stage2.label = "pipeline[4].model";
    stage2.kind = registry::PluginKind::kModel;
    stage2.plugin = "models.pred_plus_one";
    stage2.frame = 1;
    stage2.output_columns = {11};
    stage2.on = {"signal.generated"};
    p.steps.push_back(stage2);
    p.signal_subscribers = {4};
    p.prediction = {1, 11};
    p.prediction_column = "stage2";
    p.prediction_step = 4;
    return p;
  }

  PluginSet plugins_;
};

void feed(Engine& e, SymbolId s, int from, int to) {
  for (int i = from; i < to; ++i) e.on_source_bar(0, s, bar_at(i * kMin, i + 1));
}

TEST_F(EngineEventsTest, TimerPredictionsEqualTheRowPathWhenEveryBarIsThere) {
  std::vector<Recorded> by_rows, by_timer;
  auto rows = make(testing::two_frame_plan({"AAA"}), by_rows);
  auto timer = make(timer_plan({"AAA"}), by_timer);
  feed(*rows, 0, 0, 6);
  feed(*timer, 0, 0, 6);
  // The replay driver's end: the clock stops at the last bar's close.
  timer->on_clock(6 * kMin);
  ASSERT_EQ(by_rows.size(), 2u);
  EXPECT_EQ(by_timer, by_rows);  // (120000, 60), (240000, 120): labelled with the bar that closed at the tick
  EXPECT_EQ(timer->stats().timer_ticks, 3u);  // boundaries 2m, 4m, 6m
  EXPECT_EQ(timer->emitter().nan_skipped(), 1u);  // the first tick: csum not warmed up
}

TEST_F(EngineEventsTest, TimerTickFiresBeforeTheFirstBarClosingAfterIt) {
  std::vector<Recorded> out;
  auto e = make(timer_plan({"AAA"}, /*buffer_minutes=*/1), out);
  // Ticks at 0+1, 2m+1, 4m+1, 6m+1. The bar closing at 6m fires the one at 5m: m2's
  // newest row then is ts 2m (the pair 4m..6m is not complete before that bar).
  feed(*e, 0, 0, 6);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (Recorded{2 * kMin, "AAA", 60}));
  e->on_clock(7 * kMin - 1);  // no bar: 6m + 1 min is not due yet
  EXPECT_EQ(out.size(), 1u);
  e->on_clock(7 * kMin);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], (Recorded{4 * kMin, "AAA", 120}));
  // Also the one at 0 + 1 min, right after the first bar closed: no m2 row yet.
  EXPECT_EQ(e->stats().timer_ticks, 4u);
  EXPECT_EQ(e->stats().timer_no_row, 1u);
}

TEST_F(EngineEventsTest, TimerRunsOnTheLastRowOfASymbolWithoutNewBarsAndSkipsOneWithNone) {
  std::vector<Recorded> out;
  auto e = make(timer_plan({"AAA", "BBB", "CCC"}), out);
  // AAA trades throughout; BBB stops after its 4th bar; CCC never trades.
  for (int i = 0; i < 8; ++i) {
    e->on_source_bar(0, 0, bar_at(i * kMin, i + 1));
    if (i < 4) e->on_source_bar(0, 1, bar_at(i * kMin, 100 + i));
  }
  e->on_clock(8 * kMin);
  std::vector<Recorded> bbb;
  for (const auto& r : out)
    if (r.symbol == "BBB") bbb.push_back(r);
  // BBB's last m2 row is ts 2m (csum 101 + 103 = 204): the exchange's clock
  // (at 8m) fires BBB's later ticks, each predicting from that row, labelled
  // with the tick's own bar.
  ASSERT_EQ(bbb.size(), 3u);
  EXPECT_EQ(bbb[0], (Recorded{2 * kMin, "BBB", 2040}));
  EXPECT_EQ(bbb[1], (Recorded{4 * kMin, "BBB", 2040}));
  EXPECT_EQ(bbb[2], (Recorded{6 * kMin, "BBB", 2040}));
  // AAA's records are its bars' (the same as if BBB had traded).
  size_t aaa = 0;
  for (const auto& r : out) aaa += r.symbol == "AAA";
  EXPECT_EQ(aaa, 3u);
  // CCC: its clock starts at the first reading (8m); the tick then finds no row.
  for (const auto& r : out) EXPECT_NE(r.symbol, "CCC");
  EXPECT_EQ(e->stats().timer_no_row, 1u);
}

TEST_F(EngineEventsTest, TimerScheduleSurvivesASnapshot) {
  std::vector<Recorded> whole, parts;
  auto a = make(timer_plan({"AAA"}), whole);
  feed(*a, 0, 0, 10);
  a->on_clock(10 * kMin);

  auto b = make(timer_plan({"AAA"}), parts);
  feed(*b, 0, 0, 5);
  StateWriter w;
  b->save(w);
  auto c = make(timer_plan({"AAA"}), parts);
  const std::string bytes = w.take();
  StateReader r(bytes);
  ASSERT_TRUE(c->load(r).ok());
  feed(*c, 0, 5, 10);
  c->on_clock(10 * kMin);
  EXPECT_EQ(parts, whole);
  EXPECT_EQ(whole.size(), 4u);
}

TEST_F(EngineEventsTest, SecondStageModelRunsOnSignalGeneratedAndItsColumnIsEmitted) {
  std::vector<Recorded> out;
  auto e = make(signal_plan({"AAA"}), out);
  feed(*e, 0, 0, 6);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (Recorded{2 * kMin, "AAA", 61}));   // pred 60 + 1
  EXPECT_EQ(out[1], (Recorded{4 * kMin, "AAA", 121}));  // pred 120 + 1
  EXPECT_EQ(e->stats().signal_runs, 2u);  // not after the NaN prediction of the first row
  // data -> frame.m2 -> signal.generated; stage2's own prediction runs no one.
  EXPECT_EQ(e->stats().max_chain_depth, 2u);
  EXPECT_FALSE(e->failure());
}

TEST_F(EngineEventsTest, SignalGeneratedAfterATimerPrediction) {
  dag::Plan p = signal_plan({"AAA"});
  p.steps[3].on = {"timer.2m"};
  p.flows[1].steps = {2};
  p.timers = {dag::TimerFlow{"timer.2m", 2 * kMin, {3}}};
  std::vector<Recorded> out;
  auto e = make(p, out);
  feed(*e, 0, 0, 6);
  e->on_clock(6 * kMin);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (Recorded{2 * kMin, "AAA", 61}));
  EXPECT_EQ(out[1], (Recorded{4 * kMin, "AAA", 121}));
}

TEST_F(EngineEventsTest, ChainGuardStopsAnEventLoopNamingItsEvents) {
  // Past validation (which refuses it): two models on signal.generated fire each other.
  dag::Plan p = signal_plan({"AAA"});
  p.frames[1].columns.push_back("stage3");  // column 12
  dag::StepPlan stage3 = p.steps[4];
  stage3.id = 5;
  stage3.label = "pipeline[5].model";
  stage3.plugin = "models.stage2_plus_one";
  stage3.output_columns = {12};
  p.steps.push_back(stage3);
  p.signal_subscribers = {4, 5};
  std::vector<Recorded> out;
  auto e = make(p, out);
  feed(*e, 0, 0, 4);  // the second m2 row has a finite prediction: the loop starts
  ASSERT_TRUE(e->failure());
  const std::string& m = e->failure()->message;
  EXPECT_NE(m.find("event chain deeper than 100 events for AAA, an event loop: data.test_1m (from pipeline[0].data) "
                   "-> frame.m2 (from "
                   "pipeline[1].transform) -> signal.generated (from pipeline[3].model) -> signal.generated (from "
                   "pipeline[4].model) -> ..."),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("signal.generated (from pipeline[5].model) -> signal.generated (from pipeline[4].model)"),
            std::string::npos)
      << m;
  EXPECT_EQ(e->stats().max_chain_depth, 100u);
  // stage2's first prediction went out before the chain grew past the guard.
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (Recorded{2 * kMin, "AAA", 61}));
  // The engine runs nothing more.
  EXPECT_FALSE(e->on_source_bar(0, 0, bar_at(4 * kMin, 5)));
  EXPECT_FALSE(e->on_source_bar(0, 0, bar_at(5 * kMin, 6)));
  e->on_clock(10 * kMin);
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace af
