// The bilstm example's model size (window 30, 13 inputs, hidden 64, 2 layers,
// bidirectional, linear head) in LibTorch on one thread, batch 1, 4 and 200: the
// reference for models_bench. Built only with -DAF_BENCH_LIBTORCH=ON.

#include <benchmark/benchmark.h>
#include <torch/torch.h>

namespace {

constexpr int kInputs = 13, kHidden = 64, kLayers = 2, kWindow = 30;

struct Net : torch::nn::Module {
  Net()
      : lstm(register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(kInputs, kHidden)
                                                          .num_layers(kLayers)
                                                          .bidirectional(true)
                                                          .batch_first(true)))),
        fc(register_module("fc", torch::nn::Linear(2 * kHidden, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto out = std::get<0>(lstm->forward(x));
    return fc->forward(out.select(1, kWindow - 1));
  }
  torch::nn::LSTM lstm;
  torch::nn::Linear fc;
};

void BM_LibTorchBilstm(benchmark::State& state) {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  torch::manual_seed(42);
  const int64_t batch = state.range(0);
  Net net;
  net.eval();
  const auto x = torch::randn({batch, kWindow, kInputs});
  for (auto _ : state) {
    auto y = net.forward(x);
    benchmark::DoNotOptimize(y.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["us_per_prediction"] = benchmark::Counter(
      static_cast<double>(batch) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_LibTorchBilstm)->Arg(1)->Arg(4)->Arg(200)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
