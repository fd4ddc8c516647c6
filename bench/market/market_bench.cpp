// Kline frame parsing (the WebSocket hot path) and bar assembly rates.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "binance/bar_assembler.hpp"
#include "binance/binance_kline_parser.hpp"

namespace {

using af::binance::BinanceKlineParser;
using af::binance::KlineError;
using af::binance::KlineUpdate;

std::string frame(int i, const std::string& symbol) {
  const long long t = 1785048480000LL + 60000LL * (i % 1000);
  std::string lower;
  for (char c : symbol) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "{\"stream\":\"" + lower + "@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":" + std::to_string(t + 1234) +
         ",\"s\":\"" + symbol + "\",\"k\":{\"t\":" + std::to_string(t) + ",\"T\":" + std::to_string(t + 59999) +
         ",\"s\":\"" + symbol + "\",\"i\":\"1m\",\"f\":8062213398,\"L\":8062214482,\"o\":\"79095.40\",\"c\":\"79104." +
         std::to_string(i % 10) + "0\",\"h\":\"79111.30\",\"l\":\"79080.60\",\"v\":\"42.797\",\"n\":1079,\"x\":" +
         (i % 4 == 0 ? "true" : "false") +
         ",\"q\":\"3384949.92680\",\"V\":\"14.001\",\"Q\":\"1107450.49620\",\"B\":\"0\"}}}";
}

void BM_ParseKlineFrame(benchmark::State& state) {
  std::vector<std::string> universe;
  for (int i = 0; i < 200; ++i) universe.push_back("SYM" + std::to_string(i) + "USDT");
  universe.push_back("BTCUSDT");
  BinanceKlineParser parser(universe);
  std::vector<std::string> frames;
  for (int i = 0; i < 256; ++i) frames.push_back(frame(i, universe[(i * 7) % universe.size()]));
  KlineUpdate u;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& f = frames[i++ & 255];
    const KlineError e = parser.parse(f, 1'800'000'000'000LL, u);
    if (e != KlineError::kNone) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(u);
    bytes += f.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ParseKlineFrame);

// Four x=false updates then x=true per bar, 100 symbols: the assembler's steady state.
void BM_AssembleUpdates(benchmark::State& state) {
  constexpr int kSymbols = 100;
  af::binance::BarAssembler assembler(kSymbols, af::binance::BarAssemblerOptions{.interval_ms = 60'000});
  af::binance::AssemblerOutput out;
  for (int s = 0; s < kSymbols; ++s) assembler.start(s, 0);
  af::Bar bar;
  bar.open = bar.high = bar.low = bar.close = 1;
  int64_t n = 0;
  for (auto _ : state) {
    const int64_t k = n++;
    const int s = static_cast<int>(k % kSymbols);
    const int64_t step = (k / kSymbols) % 5;
    bar.ts = ((k / kSymbols) / 5) * 60'000;
    assembler.on_update(static_cast<uint32_t>(s), bar, step == 4, bar.ts + 1000, out);
    if (out.bars.size() > 4096) out.clear();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_AssembleUpdates);

}  // namespace

BENCHMARK_MAIN();
