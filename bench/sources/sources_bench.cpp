// Throughput of the replay input path: Vision CSV parsing, zip + checksum + parse,
// and resampling, on synthetic 1m bars.

#include <benchmark/benchmark.h>

#include <filesystem>

#include "common/interval.hpp"
#include "synthetic/synthetic_market.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_csv.hpp"
#include "vision/vision_writer.hpp"
#include "transforms/resample.hpp"

namespace {

constexpr int64_t kFrom = 1704067200000;  // 2024-01-01

const std::vector<af::Bar>& month_of_minutes() {
  static const std::vector<af::Bar> bars =
      af::synthetic::SyntheticMarket({"BENCHUSDT"}, 1).bars(0, af::kMinuteMs, kFrom, kFrom + 31 * af::kDayMs);
  return bars;
}

void BM_ParseVisionCsv(benchmark::State& state) {
  const std::string text = af::vision::format_vision_csv(month_of_minutes(), af::kMinuteMs,
                                                          af::vision::futures_dialect());
  std::vector<af::Bar> out;
  out.reserve(month_of_minutes().size());
  for (auto _ : state) {
    out.clear();
    auto st = af::vision::parse_vision_csv(text, "bench.csv", out);
    benchmark::DoNotOptimize(out.data());
    if (!st) state.SkipWithError(st.error().message.c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * month_of_minutes().size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseVisionCsv)->Unit(benchmark::kMillisecond);

void BM_ReadVisionArchive(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "af_sources_bench";
  auto path = af::vision::write_vision_file(dir, "BENCHUSDT", af::kMinuteMs, {2024, 1, 0}, month_of_minutes(),
                                             af::vision::futures_dialect());
  if (!path) {
    state.SkipWithError(path.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto bars = af::vision::read_vision_archive(*path);
    if (!bars) state.SkipWithError(bars.error().message.c_str());
    benchmark::DoNotOptimize(bars);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * month_of_minutes().size()));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReadVisionArchive)->Unit(benchmark::kMillisecond);

class NullOutput : public af::TransformOutput {
 public:
  void emit(af::SymbolId, const af::Bar& bar, std::span<const double>) override { sum_ += bar.close; }
  double sum_ = 0;
};

void BM_Resample1mTo1h(benchmark::State& state) {
  const auto& bars = month_of_minutes();
  NullOutput out;
  for (auto _ : state) {
    af::transforms::Resample r(af::kMinuteMs, af::kHourMs, 1);
    for (const auto& b : bars) r.on_bar(0, b, out);
  }
  benchmark::DoNotOptimize(out.sum_);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * bars.size()));
}
BENCHMARK(BM_Resample1mTo1h)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
