#pragma once
// A hand-built plan and test operators for runtime tests, so the runtime is
// tested without the DSL and compiler in the way.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "dag/plan.hpp"
#include "runtime/engine.hpp"
#include "runtime/plugin_set.hpp"

namespace af::testing {

// cumsum of its input: stateful, so save/load is exercised.
class CumSum final : public Feature {
 public:
  void update(std::span<const double> in, std::span<double> out) override {
    sum_ += in[0];
    ++n_;
    if (n_ >= 2) out[0] = sum_;  // valid from the 2nd row: warmup 2
  }
  void save(StateWriter& w) const override {
    w.put(sum_);
    w.put(n_);
  }
  bool load(StateReader& r) override {
    r.get(sum_);
    r.get(n_);
    return !r.failed();
  }

 private:
  double sum_ = 0;
  int64_t n_ = 0;
};

// prediction = input column of the newest row * 10
class TimesTen final : public Model {
 public:
  explicit TimesTen(int column) : column_(column) {}
  int64_t window() const override { return 1; }
  double predict(SymbolId, const SymbolSeries& s) override { return s.value(static_cast<size_t>(column_), 0) * 10; }

 private:
  int column_;
};

// Pairs of bars into one (a 2x resample without bucket alignment).
class Pairs final : public Transform {
 public:
  explicit Pairs(size_t symbols) : pending_(symbols), has_(symbols, 0) {}
  void on_bar(SymbolId s, const Bar& bar, TransformOutput& out) override {
    if (!has_[s]) {
      pending_[s] = bar;
      has_[s] = 1;
      return;
    }
    Bar b = pending_[s];
    b.high = std::max(b.high, bar.high);
    b.low = std::min(b.low, bar.low);
    b.close = bar.close;
    b.volume += bar.volume;
    b.origin = BarOrigin::kDerived;
    has_[s] = 0;
    out.emit(s, b, {});
  }
  void reset(SymbolId s) override { has_[s] = 0; }
  void save(StateWriter& w) const override {
    w.put_vector(pending_);
    w.put_vector(has_);
  }
  bool load(StateReader& r) override {
    r.get_vector(pending_);
    r.get_vector(has_);
    return !r.failed();
  }
  bool per_symbol_state() const override { return true; }
  void save_symbol(SymbolId s, StateWriter& w) const override {
    w.put(pending_[s]);
    w.put(has_[s]);
  }
  bool load_symbol(SymbolId s, StateReader& r) override {
    r.get(pending_[s]);
    r.get(has_[s]);
    return !r.failed();
  }

 private:
  std::vector<Bar> pending_;
  std::vector<uint8_t> has_;
};

inline registry::Descriptor descriptor(std::string name, registry::PluginKind kind) {
  registry::Descriptor d;
  d.name = std::move(name);
  d.kind = kind;
  d.warmup_rows = [](const registry::Params&) { return int64_t{1}; };
  return d;
}

inline void register_test_plugins(PluginSet& p) {
  p.features.add(descriptor("features.cumsum", registry::PluginKind::kFeature),
                 [](const FeatureContext&) -> Result<std::unique_ptr<Feature>> { return {std::make_unique<CumSum>()}; });
  p.models.add(descriptor("models.times_ten", registry::PluginKind::kModel),
               [](const ModelContext& c) -> Result<std::unique_ptr<Model>> {
                 int col = -1;
                 for (size_t i = 0; i < c.frame_columns.size(); ++i)
                   if (c.frame_columns[i] == "csum") col = static_cast<int>(i);
                 return {std::make_unique<TimesTen>(col)};
               });
  p.transforms.add(descriptor("transforms.pairs", registry::PluginKind::kTransform),
                   [](const TransformContext& c) -> Result<std::unique_ptr<Transform>> {
                     return {std::make_unique<Pairs>(c.symbols.size())};
                   });
}

inline std::vector<std::string> columns_with(std::vector<std::string> extra) {
  std::vector<std::string> cols(kBarColumns.begin(), kBarColumns.end());
  cols.insert(cols.end(), extra.begin(), extra.end());
  return cols;
}

// frame 0 "m1" (1m, source data.test_1m) -> transform pairs -> frame 1 "m2"
// (2m): csum = cumsum(close) -> pred = csum * 10 (the prediction column).
inline dag::Plan two_frame_plan(std::vector<std::string> universe) {
  dag::Plan p;
  p.name = "test_dag";
  p.lookback_days = 1;
  p.interval_ms = 120'000;
  p.coarsest_interval_ms = 120'000;

  dag::FramePlan m1;
  m1.name = "m1";
  m1.interval_ms = 60'000;
  m1.columns = columns_with({});
  m1.producer_step = 0;
  m1.event = "data.test_1m";
  m1.capacity = 4;
  dag::FramePlan m2;
  m2.name = "m2";
  m2.interval_ms = 120'000;
  m2.columns = columns_with({"csum", "pred"});
  m2.producer_step = 1;
  m2.event = "frame.m2";
  m2.warmup_rows = 2;
  m2.capacity = 4;
  p.frames = {m1, m2};

  dag::StepPlan data;
  data.id = 0;
  data.label = "pipeline[0].data";
  data.kind = registry::PluginKind::kData;
  data.plugin = "data.test";
  data.frame = 0;
  data.output_frame = 0;

  dag::StepPlan pairs;
  pairs.id = 1;
  pairs.label = "pipeline[1].transform";
  pairs.kind = registry::PluginKind::kTransform;
  pairs.plugin = "transforms.pairs";
  pairs.frame = 0;
  pairs.output_frame = 1;

  dag::StepPlan csum;
  csum.id = 2;
  csum.label = "pipeline[2].features";
  csum.kind = registry::PluginKind::kFeature;
  csum.plugin = "features.cumsum";
  csum.frame = 1;
  csum.inputs = {{1, 3}};  // m2.close
  csum.output_columns = {9};

  dag::StepPlan model;
  model.id = 3;
  model.label = "pipeline[3].model";
  model.kind = registry::PluginKind::kModel;
  model.plugin = "models.times_ten";
  model.frame = 1;
  model.output_columns = {10};

  p.steps = {data, pairs, csum, model};
  p.flows = {dag::Flow{"data.test_1m", 0, {1}}, dag::Flow{"frame.m2", 1, {2, 3}}};
  dag::SourcePlan src;
  src.step = 0;
  src.plugin = "data.test";
  src.source_name = "test";
  src.frame = 0;
  src.interval_ms = 60'000;
  src.universe = std::move(universe);
  src.event = "data.test_1m";
  p.sources = {src};
  p.prediction = {1, 10};
  p.prediction_column = "pred";
  return p;
}

inline Bar bar_at(int64_t ts, double close) {
  Bar b;
  b.ts = ts;
  b.open = close;
  b.high = close + 1;
  b.low = close - 1;
  b.close = close;
  b.volume = 1;
  b.origin = BarOrigin::kStream;
  return b;
}

}  // namespace af::testing
