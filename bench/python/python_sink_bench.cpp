// sinks.python benchmarks (issue 16, Performance), Google Benchmark:
//
//   BM_PythonSinkWrite/<emit|emit_batch>: records/s through PythonSink::write()
//     in batches of 512 (what a SinkWorker hands over at most), into a class
//     that appends each record's fields to a list: the cost of crossing into
//     Python, building (symbol, ts, prediction, metadata) and the call.
//   BM_PythonSinkEmitter/<emit|emit_batch>: the same end to end through a
//     SignalEmitter (its worker thread, batching, flush), from the first emit()
//     to the return of close().
//   BM_EventLoopWithBlockedPythonSink: emit() time per record with one Python
//     sink blocked (polling a file in time.sleep, released before close) and one that takes every record (the live
//     service's settings: no backpressure).
//
// Usage: python_sink_bench [--benchmark_filter=...]

#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "python/interpreter.hpp"
#include "python/register_python_sink.hpp"
#include "delivery/signal_emitter.hpp"

namespace af {
namespace {

const std::vector<std::string> kSymbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"};
const std::string kDag = "bench_dag";
const std::string kFrame = "ohlcv";
const std::string kColumn = "model.prediction";
constexpr int64_t kT0 = 1'704'067'200'000;

PredictionRecord record(uint64_t i) {
  PredictionRecord r;
  r.symbol = &kSymbols[i % kSymbols.size()];
  r.ts = kT0 + static_cast<int64_t>(i / kSymbols.size()) * 60'000;
  r.prediction = static_cast<double>(i % 1000) * 1e-3;
  r.dag_name = &kDag;
  r.frame = &kFrame;
  r.column = &kColumn;
  r.emitted_at = r.ts + 1500;
  r.origin = BarOrigin::kStream;
  return r;
}

const char* kSinks = R"PY(
import os
import time

class Collect:
    def __init__(self):
        self.rows = []

    def emit(self, symbol, ts, prediction, metadata):
        self.rows.append((symbol, ts, prediction, metadata["dag_name"]))
        if len(self.rows) >= 65536:
            self.rows.clear()

    def close(self):
        pass

class CollectBatch(Collect):
    def emit_batch(self, records):
        for symbol, ts, prediction, metadata in records:
            self.rows.append((symbol, ts, prediction, metadata["dag_name"]))
        if len(self.rows) >= 65536:
            self.rows.clear()

class Blocked(Collect):
    def __init__(self, gate):
        super().__init__()
        self.gate = gate

    def emit(self, symbol, ts, prediction, metadata):
        while not os.path.exists(self.gate):
            time.sleep(0.05)
)PY";

const std::string& folder() {
  static const std::string dir = [] {
    std::random_device rd;
    const auto d = std::filesystem::temp_directory_path() / ("af_pybench_" + std::to_string(rd()));
    std::filesystem::create_directories(d);
    std::ofstream(d / "bench_sinks.py") << kSinks;
    return d.string();
  }();
  return dir;
}

std::unique_ptr<Sink> make(const std::string& cls, const std::string& name = "sinks.python[0]",
                           const std::string& params_json = "{}") {
  static SinkRegistry registry = [] {
    SinkRegistry r;
    python::register_python_sink(r);
    return r;
  }();
  registry::Params p;
  p.set("class", "bench_sinks.py:" + cls);
  p.set("params", params_json);
  p.set("batch_size", int64_t{512});
  SinkContext ctx{p, name, kDag};
  ctx.pipeline_file = folder() + "/pipeline.yaml";
  auto s = registry.find("sinks.python")->factory(ctx);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    std::exit(1);
  }
  return std::move(s).value();
}

const char* class_of(int64_t arg) { return arg == 0 ? "Collect" : "CollectBatch"; }

void BM_PythonSinkWrite(benchmark::State& state) {
  auto sink = make(class_of(state.range(0)));
  if (Status st = sink->open(); !st) {
    state.SkipWithError(st.error().message.c_str());
    return;
  }
  std::vector<PredictionRecord> batch;
  for (uint64_t i = 0; i < 512; ++i) batch.push_back(record(i));
  for (auto _ : state) {
    if (Status st = sink->write(batch); !st) {
      state.SkipWithError(st.error().message.c_str());
      break;
    }
  }
  (void)sink->close();
  state.SetItemsProcessed(state.iterations() * 512);
  state.SetLabel(state.range(0) == 0 ? "emit" : "emit_batch");
}
BENCHMARK(BM_PythonSinkWrite)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_PythonSinkEmitter(benchmark::State& state) {
  constexpr uint64_t kRecords = 100'000;
  for (auto _ : state) {
    SinkWorkerOptions o;
    o.block_when_full = true;
    SignalEmitter e(o);
    e.add("sinks.python[0]", make(class_of(state.range(0))));
    if (Status st = e.open_all(); !st) {
      state.SkipWithError(st.error().message.c_str());
      return;
    }
    for (uint64_t i = 0; i < kRecords; ++i) e.emit(record(i));
    if (Status st = e.close(); !st) state.SkipWithError(st.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.SetLabel(state.range(0) == 0 ? "emit" : "emit_batch");
}
BENCHMARK(BM_PythonSinkEmitter)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void BM_EventLoopWithBlockedPythonSink(benchmark::State& state) {
  SinkWorkerOptions o;  // the live service's: a full queue spills, emit() never waits
  SignalEmitter e(o);
  const std::string gate = folder() + "/released";
  std::filesystem::remove(gate);
  e.add("sinks.python[0]", make("Blocked", "sinks.python[0]", R"({"gate": ")" + gate + R"("})"));
  e.add("sinks.python[1]", make("Collect", "sinks.python[1]"));
  if (Status st = e.open_all(); !st) {
    state.SkipWithError(st.error().message.c_str());
    return;
  }
  uint64_t i = 0;
  for (auto _ : state) e.emit(record(i++ % 60'000));
  state.SetItemsProcessed(static_cast<int64_t>(i));
  std::ofstream(gate) << "";
  (void)e.close();
}
BENCHMARK(BM_EventLoopWithBlockedPythonSink)->Unit(benchmark::kNanosecond)->Iterations(20'000);

}  // namespace
}  // namespace af

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  af::python::finalize_interpreter();
  return 0;
}
