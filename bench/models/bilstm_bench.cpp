// Microseconds per prediction of models.pytorch_bilstm_predictor at the seed
// bilstm example's size (window 30, 13 features, hidden 64, 2 layers,
// bidirectional), one symbol at a time and batched over 4 and 200 symbols; and at
// the shipped example checkpoint's size (examples/models/bilstm_unified: 19
// inputs, hidden 16). Random weights (the cost does not depend on their values).
// Targets on one core (issue 15): <= 100 us per prediction at batch 1, <= 65 us
// batched, at hidden 64.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "models/register_builtins.hpp"
#include "unit/models/checkpoint_files.hpp"
#include "unit/models/test_frame.hpp"

namespace af::models {
namespace {

// "f3": built with += because "f" + std::to_string(i) trips a g++ 12 -Wrestrict false positive.
std::string numbered(const char* prefix, int i) {
  std::string s = prefix;
  s += std::to_string(i);
  return s;
}

constexpr int kLayers = 2, kWindow = 30;

struct Fixture {
  testing::TempDir dir{"bench"};
  testing::ContextHolder holder;
  std::unique_ptr<Model> model;
  std::vector<SymbolSeries> series;
  std::vector<std::string> inputs;

  Fixture(int symbols, int n_inputs, int hidden) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> w(-0.125f, 0.125f);
    std::map<std::string, testing::RawTensor> tensors;
    auto random = [&](std::vector<int64_t> shape) {
      int64_t n = 1;
      for (auto d : shape) n *= d;
      std::vector<float> v(static_cast<size_t>(n));
      for (auto& x : v) x = w(rng);
      return testing::f32_tensor(shape, v);
    };
    for (int l = 0; l < kLayers; ++l)
      for (const std::string sfx : {"", "_reverse"}) {
        const std::string s = "_l" + std::to_string(l) + sfx;
        tensors["lstm.weight_ih" + s] = random({4 * hidden, l == 0 ? n_inputs : 2 * hidden});
        tensors["lstm.weight_hh" + s] = random({4 * hidden, hidden});
        tensors["lstm.bias_ih" + s] = random({4 * hidden});
        tensors["lstm.bias_hh" + s] = random({4 * hidden});
      }
    tensors["fc.weight"] = random({1, 2 * hidden});
    tensors["fc.bias"] = random({1});
    testing::write_bytes(dir.path() / "weights.safetensors", testing::safetensors_bytes(tensors));
    for (int i = 0; i < n_inputs; ++i) inputs.push_back(numbered("f", i));
    nlohmann::json cfg = {{"version", 1},
                          {"architecture",
                           {{"input_size", n_inputs}, {"hidden_size", hidden}, {"num_layers", kLayers},
                            {"bidirectional", true}}},
                          {"input_columns", inputs}};
    testing::write_text(dir.path() / "config.json", cfg.dump());
    auto extras = inputs;
    extras.push_back("model.prediction");
    holder.columns = testing::frame_columns(extras);
    holder.first_output_column = static_cast<int>(holder.columns.size()) - 1;
    holder.capacity = 2 * kWindow;
    holder.symbols.clear();
    for (int i = 0; i < symbols; ++i) holder.symbols.push_back(numbered("S", i));
    holder.params.set("strategy", std::string("unified"));
    holder.params.set("window_size", int64_t{kWindow});
    holder.params.set("checkpoint_dir", dir.path().string());
    ModelRegistry reg;
    register_builtins(reg);
    auto m = reg.find("models.pytorch_bilstm_predictor")->factory(holder.context());
    if (!m.ok()) throw std::runtime_error(m.error().message);
    model = std::move(*m);
    std::normal_distribution<double> x(0.0, 1.0);
    for (int i = 0; i < symbols; ++i) {
      series.emplace_back(holder.columns.size(), static_cast<size_t>(holder.capacity));
      for (int t = 0; t < kWindow; ++t) {
        std::vector<double> row(n_inputs);
        for (auto& v : row) v = x(rng);
        testing::append_row(series.back(), t, 1.0, row);
      }
    }
  }
};

// range(1): 0 = the widest kernel the CPU has, 1 = AVX2, 2 = baseline x86-64.
void BM_BilstmPredict(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  static const char* kKernels[] = {"", "avx2", "baseline"};
  setenv("AF_MODELS_KERNEL", kKernels[state.range(1)], 1);
  Fixture f(batch, static_cast<int>(state.range(2)), static_cast<int>(state.range(3)));
  unsetenv("AF_MODELS_KERNEL");
  state.SetLabel(state.range(1) == 0 ? "widest" : kKernels[state.range(1)]);
  std::vector<SymbolId> ids;
  std::vector<const SymbolSeries*> ptrs;
  for (int i = 0; i < batch; ++i) {
    ids.push_back(static_cast<SymbolId>(i));
    ptrs.push_back(&f.series[static_cast<size_t>(i)]);
  }
  std::vector<double> out(static_cast<size_t>(batch));
  for (auto _ : state) {
    if (batch == 1) {
      out[0] = f.model->predict(0, f.series[0]);
    } else {
      f.model->predict_batch(ids, ptrs, out);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["us_per_prediction"] = benchmark::Counter(
      static_cast<double>(batch) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
// Arguments: batch, kernel, inputs, hidden.
BENCHMARK(BM_BilstmPredict)->ArgsProduct({{1, 4, 200}, {0, 1, 2}, {13}, {64}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BilstmPredict)->ArgsProduct({{1, 200}, {0}, {19}, {16}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace af::models

BENCHMARK_MAIN();
