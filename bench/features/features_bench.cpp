// Feature update cost: ns per update of each built-in feature (default params,
// window 14 where required), and the bilstm example's full feature set (rsi
// 6/12/24, ma_rocp 5/10/20/60, levels 10/20/60 with 3 outputs, momentum
// 1/4/12) per bar per symbol. Target: that set under 1 us per bar.

#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "features/register_builtins.hpp"

namespace {

using af::Feature;
using af::FeatureRegistry;
namespace registry = af::registry;

struct BarTape {
  static constexpr size_t kSize = 1 << 14;
  std::vector<double> open, high, low, close, volume;
  BarTape() {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> step(0.0, 0.01);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    double c = 100.0;
    for (size_t i = 0; i < kSize; ++i) {
      const double o = c;
      c *= std::exp(step(rng));
      open.push_back(o);
      high.push_back(std::max(o, c) * (1 + 0.003 * u(rng)));
      low.push_back(std::min(o, c) * (1 - 0.003 * u(rng)));
      close.push_back(c);
      volume.push_back(1000 * u(rng));
    }
  }
  const std::vector<double>& column(const std::string& n) const {
    if (n == "open") return open;
    if (n == "high") return high;
    if (n == "low") return low;
    if (n == "volume") return volume;
    return close;
  }
};

const BarTape& tape() {
  static const BarTape t;
  return t;
}

const FeatureRegistry& reg() {
  static const FeatureRegistry r = [] {
    FeatureRegistry x;
    af::features::register_builtins(x);
    return x;
  }();
  return r;
}

// One step as the executor drives it: its operator, its input columns (row
// major, so the update reads contiguous inputs) and its output slots.
struct Step {
  std::unique_ptr<Feature> op;
  size_t n_in = 0;
  std::vector<double> in;  // kSize * n_in
  std::vector<double> out;

  Step(const std::string& name, const std::vector<std::pair<std::string, registry::ParamValue>>& overrides, int outputs) {
    const auto* e = reg().find(name);
    registry::Params p;
    for (const auto& s : e->descriptor.params) {
      if (!std::holds_alternative<std::monostate>(s.default_value)) p.set(s.name, s.default_value);
      if (s.required) p.set(s.name, int64_t{14});
    }
    for (const auto& [k, v] : overrides) p.set(k, v);
    const int n_out = outputs > 0 ? outputs : e->descriptor.max_outputs;
    op = std::move(e->factory(af::FeatureContext{p, n_out}).value());
    std::vector<std::string> cols = e->descriptor.bar_columns;
    if (cols.empty()) cols = {name == "features.volume_ratio" ? "volume" : "close"};
    n_in = cols.size();
    in.resize(BarTape::kSize * n_in);
    for (size_t t = 0; t < BarTape::kSize; ++t)
      for (size_t c = 0; c < n_in; ++c) in[t * n_in + c] = tape().column(cols[c])[t];
    out.assign(static_cast<size_t>(n_out), 0.0);
  }

  void update(size_t t) {
    const size_t row = t & (BarTape::kSize - 1);
    for (auto& o : out) o = std::nan("");
    op->update(std::span<const double>(in.data() + row * n_in, n_in), out);
  }
};

void bm_feature(benchmark::State& state, std::string name) {
  Step step(name, {}, 0);
  size_t t = 0;
  for (auto _ : state) {
    step.update(t++);
    benchmark::DoNotOptimize(step.out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The bilstm example's 13 feature steps for one symbol; one iteration = one bar.
void bm_bilstm_feature_set(benchmark::State& state) {
  std::vector<Step> steps;
  for (int64_t w : {6, 12, 24}) steps.emplace_back("features.rsi", std::vector<std::pair<std::string, registry::ParamValue>>{{"window", w}}, 1);
  for (int64_t w : {5, 10, 20, 60}) steps.emplace_back("features.ma_rocp", std::vector<std::pair<std::string, registry::ParamValue>>{{"window", w}}, 1);
  for (int64_t w : {10, 20, 60}) steps.emplace_back("features.levels", std::vector<std::pair<std::string, registry::ParamValue>>{{"window", w}}, 3);
  for (int64_t w : {1, 4, 12}) steps.emplace_back("features.momentum", std::vector<std::pair<std::string, registry::ParamValue>>{{"window", w}}, 1);
  size_t t = 0;
  for (auto _ : state) {
    for (auto& s : steps) s.update(t);
    ++t;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["steps"] = static_cast<double>(steps.size());
}

}  // namespace

int main(int argc, char** argv) {
  for (const auto* d : reg().descriptors()) benchmark::RegisterBenchmark(d->name.c_str(), bm_feature, d->name);
  benchmark::RegisterBenchmark("bilstm_feature_set_per_bar", bm_bilstm_feature_set);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
