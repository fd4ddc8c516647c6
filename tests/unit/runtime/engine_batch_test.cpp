// Model batching across symbols (Engine::set_model_batching, engine_batch.cpp):
// for every pipeline shape below, an engine that defers its batchable model's
// rows and flushes them in batches gives exactly what one running each row at
// once gives: the same records in the same order, the same rows of each frame
// in the same order (the row observer), the same snapshot bytes, the same
// failure. Streams are random (symbols in any order, missing bars, re-deliveries)
// and flushes come at random moments, at each change of ts, or only at the end.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <algorithm>
#include <map>
#include <random>

#include "test_plan.hpp"

namespace af {
namespace {

using testing::bar_at;

constexpr int64_t kMin = 60'000;

// Every call of the batchable test model, to see the batches it got.
struct CallLog {
  uint64_t single = 0;
  std::vector<size_t> batches;
};

// prediction = sum over the window of (age + 1) * column + 1000 * symbol; NaN
// until the window is full or when an input is NaN. Batches of `chunk` preferred.
class WindowModel final : public Model {
 public:
  WindowModel(int column, int64_t window, size_t chunk, CallLog* log)
      : column_(column), window_(window), chunk_(chunk), log_(log) {}
  int64_t window() const override { return window_; }
  double predict(SymbolId symbol, const SymbolSeries& s) override {
    ++log_->single;
    return compute(symbol, s);
  }
  void predict_batch(std::span<const SymbolId> symbols, std::span<const SymbolSeries* const> series,
                     std::span<double> out) override {
    log_->batches.push_back(symbols.size());
    for (size_t i = 0; i < symbols.size(); ++i) out[i] = compute(symbols[i], *series[i]);
  }
  size_t preferred_batch() const override { return chunk_; }

 private:
  double compute(SymbolId symbol, const SymbolSeries& s) const {
    if (s.size() < static_cast<size_t>(window_)) return std::nan("");
    double y = 1000.0 * symbol;
    for (int64_t t = 0; t < window_; ++t) y += static_cast<double>(t + 1) * s.value(static_cast<size_t>(column_), t);
    return y;
  }
  int column_;
  int64_t window_;
  size_t chunk_;
  CallLog* log_;
};

// prediction = the named column + 1: a model without a batch preference.
class PlusOne final : public Model {
 public:
  explicit PlusOne(int column) : column_(column) {}
  int64_t window() const override { return 1; }
  double predict(SymbolId, const SymbolSeries& s) override { return s.value(static_cast<size_t>(column_), 0) + 1; }

 private:
  int column_;
};

// "pipeline[3].model", built with += (operator+ chains trip a g++ 12 -Wrestrict false positive).
std::string step_label(int id, const char* kind) {
  std::string s = "pipeline[";
  s += std::to_string(id);
  s += "].";
  s += kind;
  return s;
}

int column_of(const ModelContext& c, const std::string& name) {
  for (size_t i = 0; i < c.frame_columns.size(); ++i)
    if (c.frame_columns[i] == name) return static_cast<int>(i);
  return -1;
}

// A model step of the test plans: `plugin` on frame `frame`, output column `out`.
dag::StepPlan model_step(int id, const std::string& plugin, int frame, int out, const std::string& input = "",
                         int64_t window = 1) {
  dag::StepPlan s;
  s.id = id;
  s.label = step_label(id, "model");
  s.kind = registry::PluginKind::kModel;
  s.plugin = plugin;
  s.frame = frame;
  s.output_columns = {out};
  if (!input.empty()) s.params.set("column", input);
  s.params.set("window", window);
  return s;
}

dag::StepPlan cumsum_step(int id, int frame, int in_column, int out) {
  dag::StepPlan s;
  s.id = id;
  s.label = step_label(id, "features");
  s.kind = registry::PluginKind::kFeature;
  s.plugin = "features.cumsum";
  s.frame = frame;
  s.inputs = {{frame, in_column}};
  s.output_columns = {out};
  return s;
}

struct Record {
  int64_t ts;
  std::string symbol;
  double prediction;
  BarOrigin origin;
  bool operator==(const Record& o) const {
    // Bit for bit (NaN never reaches a record).
    return ts == o.ts && symbol == o.symbol && std::memcmp(&prediction, &o.prediction, sizeof(double)) == 0 &&
           origin == o.origin;
  }
};

struct ObservedRow {
  SymbolId symbol;
  std::vector<double> values;  // ts and every column, as the observer saw them
  bool operator==(const ObservedRow& o) const {
    return symbol == o.symbol && values.size() == o.values.size() &&
           std::memcmp(values.data(), o.values.data(), values.size() * sizeof(double)) == 0;
  }
};

// What a run produced.
struct Outcome {
  std::vector<Record> records;
  std::map<int, std::vector<ObservedRow>> rows;  // per frame
  std::string state;                             // the snapshot at the end
  std::string failure;
  EngineStats stats;
  CallLog calls;
};

// One event of a stream: a bar, or the exchange's clock.
struct Event {
  SymbolId symbol = 0;
  Bar bar;
  int64_t clock = -1;  // >= 0: on_clock(clock) instead of a bar
  bool reset = false;  // reset_symbol(0, symbol) before the bar
};

enum class Flush { kEnd, kTsChange, kRandom };

class EngineBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::register_test_plugins(plugins_);
    plugins_.models.add(testing::descriptor("models.window", registry::PluginKind::kModel),
                        [this](const ModelContext& c) -> Result<std::unique_ptr<Model>> {
                          return {std::make_unique<WindowModel>(column_of(c, c.params.get_string("column")),
                                                                c.params.get_int("window"), chunk_, log_)};
                        });
    plugins_.models.add(testing::descriptor("models.plus_one", registry::PluginKind::kModel),
                        [](const ModelContext& c) -> Result<std::unique_ptr<Model>> {
                          return {std::make_unique<PlusOne>(column_of(c, c.params.get_string("column")))};
                        });
  }

  Outcome run(const dag::Plan& plan, const std::vector<Event>& events, bool batching, Flush flush,
              uint32_t seed = 1) {
    Outcome o;
    log_ = &o.calls;
    auto made = Engine::create(plan, plugins_, [&o](const PredictionRecord& r) {
      o.records.push_back({r.ts, *r.symbol, r.prediction, r.origin});
    });
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
    if (!made.ok()) return o;
    Engine& e = **made;
    e.set_anchor(4 * kMin);
    e.set_model_batching(batching);
    e.set_row_observer([&o](int frame, SymbolId symbol, const SymbolSeries& s) {
      std::vector<double> v{static_cast<double>(s.ts(0))};
      v.insert(v.end(), s.row(0), s.row(0) + s.columns());
      o.rows[frame].push_back({symbol, std::move(v)});
    });
    std::mt19937 rng(seed);
    int64_t last_ts = std::numeric_limits<int64_t>::min();
    for (const Event& ev : events) {
      if (ev.clock >= 0) {
        e.on_clock(ev.clock);
        continue;
      }
      if (flush == Flush::kTsChange && ev.bar.ts != last_ts) e.flush_models();
      last_ts = ev.bar.ts;
      if (ev.reset) {
        EXPECT_TRUE(e.reset_symbol(0, ev.symbol).ok());
      }
      e.on_source_bar(0, ev.symbol, ev.bar);
      if (flush == Flush::kRandom && rng() % 5 == 0) e.flush_models();
    }
    e.flush_models();
    EXPECT_FALSE(e.models_pending());
    StateWriter w;
    e.save(w);
    o.state = w.take();
    if (e.failure()) o.failure = e.failure()->message;
    o.stats = e.stats();
    return o;
  }

  // Every flush policy gives what the unbatched engine gives; returns the
  // batched outcome of the last policy for further checks.
  Outcome expect_same(const dag::Plan& plan, const std::vector<Event>& events) {
    const Outcome once = run(plan, events, false, Flush::kEnd);
    EXPECT_EQ(once.stats.batched_model_runs, 0u);
    Outcome batched;
    for (Flush f : {Flush::kEnd, Flush::kTsChange, Flush::kRandom}) {
      for (uint32_t seed : {1u, 2u, 3u}) {
        batched = run(plan, events, true, f, seed);
        std::string trace = "flush policy ";
        trace += std::to_string(static_cast<int>(f));
        trace += " seed ";
        trace += std::to_string(seed);
        SCOPED_TRACE(trace);
        EXPECT_EQ(batched.records, once.records);
        EXPECT_EQ(batched.failure, once.failure);
        EXPECT_EQ(batched.stats.max_chain_depth, once.stats.max_chain_depth);
        // After a failure the run ends either way; rows that came while the
        // failing row waited were appended (engine_batch.cpp), so only the
        // records and the failure are compared then.
        if (!once.failure.empty()) continue;
        EXPECT_EQ(batched.rows, once.rows);
        EXPECT_EQ(batched.state, once.state);
        EXPECT_EQ(batched.stats.flow_runs, once.stats.flow_runs);
        EXPECT_EQ(batched.stats.signal_runs, once.stats.signal_runs);
      }
    }
    return batched;
  }

  PluginSet plugins_;
  size_t chunk_ = 3;
  CallLog* log_ = nullptr;
};

// Every symbol every minute, in order: the shape of a replay or of a live close.
std::vector<Event> regular_stream(size_t symbols, int minutes) {
  std::vector<Event> out;
  for (int i = 0; i < minutes; ++i)
    for (size_t s = 0; s < symbols; ++s)
      out.push_back({static_cast<SymbolId>(s), bar_at(i * kMin, 10.0 * static_cast<double>(s) + i * 0.5 + 1)});
  return out;
}

// Symbols in a random order each minute, some bars missing, some re-delivered
// (identical or revised), optional clock readings and resets.
std::vector<Event> random_stream(size_t symbols, int minutes, uint32_t seed, bool clocks = false,
                                 bool resets = false) {
  std::mt19937 rng(seed);
  std::vector<Event> out;
  std::vector<SymbolId> order(symbols);
  for (size_t s = 0; s < symbols; ++s) order[s] = static_cast<SymbolId>(s);
  for (int i = 0; i < minutes; ++i) {
    std::shuffle(order.begin(), order.end(), rng);
    for (SymbolId s : order) {
      if (rng() % 10 == 0) continue;  // missing
      Event ev{s, bar_at(i * kMin, 1 + static_cast<double>(rng() % 1000) / 8.0)};
      ev.reset = resets && rng() % 40 == 0;
      out.push_back(ev);
      if (rng() % 15 == 0) out.push_back(ev);  // re-delivered
      if (rng() % 20 == 0) {
        Event revised = ev;
        revised.reset = false;
        revised.bar.close += 1;
        out.push_back(revised);
      }
    }
    if (clocks && rng() % 2 == 0) out.push_back({0, Bar{}, (i + 1) * kMin});
  }
  return out;
}

// two_frame_plan with its model the batchable window model over csum.
dag::Plan batch_plan(size_t symbols, int64_t window = 2) {
  std::vector<std::string> universe;
  for (size_t s = 0; s < symbols; ++s) {
    std::string name = "S";
    name += std::to_string(s);
    universe.push_back(name);
  }
  dag::Plan p = testing::two_frame_plan(universe);
  p.steps[3] = model_step(3, "models.window", 1, 10, "csum", window);
  p.frames[1].capacity = 8;
  return p;
}

TEST_F(EngineBatchTest, OneModelStepBatchedAcrossSymbolsInChunks) {
  const dag::Plan p = batch_plan(7);
  const auto events = regular_stream(7, 24);
  const Outcome b = expect_same(p, events);
  const Outcome once = run(p, events, false, Flush::kEnd);
  ASSERT_FALSE(once.records.empty());
  // Unbatched: one predict per m2 row. Batched (flushed at each ts change): every
  // m2 row through predict_batch, 7 symbols in chunks of 3, 3 and 1.
  const Outcome ts = run(p, events, true, Flush::kTsChange);
  EXPECT_EQ(once.calls.single, 7u * 12u);
  EXPECT_TRUE(once.calls.batches.empty());
  EXPECT_EQ(ts.calls.single, 0u);
  EXPECT_EQ(ts.stats.batched_model_runs, 7u * 12u);
  EXPECT_EQ(ts.stats.model_batches, 3u * 12u);
  EXPECT_EQ(ts.stats.largest_model_flush, 7u);
  for (size_t n : ts.calls.batches) EXPECT_LE(n, 3u);
  EXPECT_EQ(b.stats.batched_model_runs, 7u * 12u);
}

TEST_F(EngineBatchTest, RandomOrderMissingAndRevisedBars) {
  for (uint32_t seed : {5u, 6u, 7u}) expect_same(batch_plan(6, 3), random_stream(6, 40, seed));
}

TEST_F(EngineBatchTest, ResetSymbolCompletesWaitingRowsFirst) {
  expect_same(batch_plan(5, 2), random_stream(5, 40, 9, false, /*resets=*/true));
}

TEST_F(EngineBatchTest, StepsAfterTheModelReadItsColumnAndASecondModelItsWindow) {
  // m2: csum -> window model (pred) -> cumsum(pred) "after" -> window model over
  // "after" (window 2) "second", the emitted column.
  dag::Plan p = batch_plan(5);
  p.frames[1].columns.push_back("after");   // 11
  p.frames[1].columns.push_back("second");  // 12
  p.steps.push_back(cumsum_step(4, 1, 10, 11));
  p.steps.push_back(model_step(5, "models.window", 1, 12, "after", 2));
  p.flows[1].steps = {2, 3, 4, 5};
  p.prediction = {1, 12};
  p.prediction_column = "second";
  p.prediction_step = 5;
  const Outcome b = expect_same(p, random_stream(5, 40, 11));
  EXPECT_GT(b.stats.batched_model_runs, 0u);
  // Only the first model of the flow defers; the second runs in the flush, per row.
  EXPECT_GT(b.calls.single, 0u);
}

TEST_F(EngineBatchTest, SignalGeneratedSubscriberAfterTheBatchedModel) {
  dag::Plan p = batch_plan(4);
  p.frames[1].columns.push_back("stage2");  // 11
  dag::StepPlan stage2 = model_step(4, "models.plus_one", 1, 11, "pred");
  stage2.on = {"signal.generated"};
  p.steps.push_back(stage2);
  p.signal_subscribers = {4};
  p.prediction = {1, 11};
  p.prediction_column = "stage2";
  p.prediction_step = 4;
  const Outcome b = expect_same(p, random_stream(4, 40, 12));
  EXPECT_GT(b.stats.signal_runs, 0u);
  EXPECT_GT(b.stats.batched_model_runs, 0u);
}

TEST_F(EngineBatchTest, TimerModelReadsTheBatchedColumnAndEmits) {
  // The flow's model is batched; a timer model (plus one over pred) emits.
  dag::Plan p = batch_plan(4);
  p.frames[1].columns.push_back("ticked");  // 11
  dag::StepPlan ticked = model_step(4, "models.plus_one", 1, 11, "pred");
  ticked.on = {"timer.2m"};
  p.steps.push_back(ticked);
  p.timers = {dag::TimerFlow{"timer.2m", 2 * kMin, {4}}};
  p.prediction = {1, 11};
  p.prediction_column = "ticked";
  p.prediction_step = 4;
  const Outcome b = expect_same(p, random_stream(4, 40, 13, /*clocks=*/true));
  EXPECT_GT(b.stats.timer_ticks, 0u);
  EXPECT_GT(b.stats.batched_model_runs, 0u);
  EXPECT_FALSE(b.records.empty());
}

TEST_F(EngineBatchTest, TimerRecordsOfOtherSymbolsWhileRowsWaitComeAfterTheirs) {
  // stage2 (plus one over pred) runs on signal.generated after the batched model
  // and on timer.2m; both emit. A tick of one symbol while another's row waits
  // completes that row (and its record) first.
  dag::Plan p = batch_plan(4);
  p.frames[1].columns.push_back("stage2");  // 11
  dag::StepPlan stage2 = model_step(4, "models.plus_one", 1, 11, "pred");
  stage2.on = {"signal.generated", "timer.2m"};
  p.steps.push_back(stage2);
  p.signal_subscribers = {4};
  p.timers = {dag::TimerFlow{"timer.2m", 2 * kMin, {4}}};
  p.prediction = {1, 11};
  p.prediction_column = "stage2";
  p.prediction_step = 4;
  const Outcome b = expect_same(p, random_stream(4, 60, 15, /*clocks=*/true));
  EXPECT_GT(b.stats.timer_ticks, 0u);
  EXPECT_GT(b.stats.signal_runs, 0u);
  EXPECT_GT(b.records.size(), 20u);
}

TEST_F(EngineBatchTest, EmittedModelInTheSourceFlowAndOnSignalGeneratedOfTheBatchedOne) {
  // stage2 on m1 runs in m1's flow after the transform (its records: m1's rows)
  // and on signal.generated after m2's batched model (the same symbol's newest m1
  // row): the m2 row completes before m1's flow goes on.
  dag::Plan p = batch_plan(4);
  p.frames[0].columns.push_back("stage2");  // 9 on m1
  dag::StepPlan stage2 = model_step(4, "models.plus_one", 0, 9, "close");
  stage2.on = {"signal.generated", "data.test_1m"};
  p.steps.push_back(stage2);
  p.flows[0].steps = {1, 4};
  p.signal_subscribers = {4};
  p.prediction = {0, 9};
  p.prediction_column = "stage2";
  p.prediction_step = 4;
  const Outcome b = expect_same(p, random_stream(4, 60, 16));
  EXPECT_GT(b.stats.signal_runs, 0u);
  EXPECT_GT(b.records.size(), 20u);
}

TEST_F(EngineBatchTest, RecordsOfAnotherFrameWhileRowsWait) {
  // The batched model on m2 is not emitted; the records come from m1's flow (a
  // plain model after the transform), so each one first completes the waiting
  // rows, and m1's flow goes on after the transform only once its symbol's m2
  // row is complete.
  dag::Plan p = batch_plan(5);
  p.frames[0].columns.push_back("m1_pred");  // 9 on m1
  p.steps.push_back(model_step(4, "models.plus_one", 0, 9, "close"));
  p.flows[0].steps = {1, 4};
  p.prediction = {0, 9};
  p.prediction_column = "m1_pred";
  p.prediction_step = 4;
  const Outcome b = expect_same(p, random_stream(5, 40, 14));
  EXPECT_GT(b.stats.batched_model_runs, 0u);
  EXPECT_FALSE(b.records.empty());
}

TEST_F(EngineBatchTest, AModelFollowedByATransformIsNotDeferred) {
  // m1's flow: the window model over close, then the transform (which could emit
  // rows of any symbol): that model runs at once.
  dag::Plan p = batch_plan(3);
  p.frames[0].columns.push_back("m1_model");  // 9 on m1
  p.frames[0].capacity = 8;
  p.steps.push_back(model_step(4, "models.window", 0, 9, "close", 2));
  p.flows[0].steps = {4, 1};
  const Outcome b = expect_same(p, regular_stream(3, 20));
  // Only m2's model (after the transform, in its own flow) is batched.
  EXPECT_EQ(b.stats.batched_model_runs, 3u * 10u);
}

TEST_F(EngineBatchTest, SnapshotMidStreamAfterAFlushContinuesTheSame) {
  const dag::Plan p = batch_plan(4);
  const auto events = regular_stream(4, 30);
  const Outcome whole = run(p, events, false, Flush::kEnd);

  std::vector<Record> parts;
  auto deliver = [&parts](const PredictionRecord& r) { parts.push_back({r.ts, *r.symbol, r.prediction, r.origin}); };
  CallLog calls;
  log_ = &calls;
  auto a = Engine::create(p, plugins_, deliver);
  ASSERT_TRUE(a.ok());
  (*a)->set_anchor(4 * kMin);
  (*a)->set_model_batching(true);
  const size_t half = events.size() / 2 + 1;  // mid-close: rows of that close wait
  for (size_t i = 0; i < half; ++i) (*a)->on_source_bar(0, events[i].symbol, events[i].bar);
  (*a)->flush_models();
  StateWriter w;
  (*a)->save(w);
  auto b = Engine::create(p, plugins_, deliver);
  ASSERT_TRUE(b.ok());
  (*b)->set_anchor(4 * kMin);
  (*b)->set_model_batching(true);
  const std::string bytes = w.take();
  StateReader r(bytes);
  ASSERT_TRUE((*b)->load(r).ok());
  for (size_t i = half; i < events.size(); ++i) (*b)->on_source_bar(0, events[i].symbol, events[i].bar);
  (*b)->flush_models();
  EXPECT_EQ(parts, whole.records);
}

TEST_F(EngineBatchTest, ChainGuardFailsTheSameWayFromAFlush) {
  // Two models on signal.generated fire each other (validation refuses it): the
  // loop starts from the batched model's prediction, inside a flush.
  dag::Plan p = batch_plan(3);
  p.frames[1].columns.push_back("stage2");  // 11
  p.frames[1].columns.push_back("stage3");  // 12
  dag::StepPlan stage2 = model_step(4, "models.plus_one", 1, 11, "pred");
  stage2.on = {"signal.generated"};
  dag::StepPlan stage3 = model_step(5, "models.plus_one", 1, 12, "stage2");
  stage3.on = {"signal.generated"};
  p.steps.push_back(stage2);
  p.steps.push_back(stage3);
  p.signal_subscribers = {4, 5};
  p.prediction = {1, 11};
  p.prediction_column = "stage2";
  p.prediction_step = 4;
  const Outcome b = expect_same(p, regular_stream(3, 12));
  EXPECT_NE(b.failure.find("event chain deeper than 100 events"), std::string::npos) << b.failure;
  EXPECT_NE(b.failure.find("data.test_1m (from pipeline[0].data) -> frame.m2 (from pipeline[1].transform) -> "
                           "signal.generated (from pipeline[3].model)"),
            std::string::npos)
      << b.failure;
}

TEST_F(EngineBatchTest, AModelWithoutABatchPreferenceRunsAtOnce) {
  chunk_ = 1;
  const dag::Plan p = batch_plan(3);
  const Outcome b = run(p, regular_stream(3, 10), true, Flush::kEnd);
  EXPECT_EQ(b.stats.batched_model_runs, 0u);
  EXPECT_TRUE(b.calls.batches.empty());
  EXPECT_GT(b.calls.single, 0u);
}

}  // namespace
}  // namespace af
