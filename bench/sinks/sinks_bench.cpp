// Sink benchmarks (issue 7). Prints key=value lines.
//
//   throughput: records/s into each sink on loopback through a SignalEmitter
//     (batching on: up to 512 records per write), from the first emit() to the
//     return of close() (everything delivered): sinks.csv_append, sinks.clickhouse
//     ($AF_CLICKHOUSE_URL), sinks.dynamodb ($AF_DYNAMODB_URL), and the example
//     jsonl plugin. A sink whose server is not configured is skipped. Then
//     sinks.csv_append(direct): the CSV sink alone, write() called on this thread
//     in batches of 512, thread CPU time (the sink's own cost, without the queue).
//   stall: the event loop's cost with one sink stalled. Two sinks, one whose
//     write() blocks until released, one that counts; emit() is timed record by
//     record (p50/p99/max), with the live service's settings (no backpressure,
//     a spool directory), and compared with the same run without the stall.
//
// Usage: sinks_bench [--records N] [--db-records N] [--only throughput|stall]

#include <time.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "delivery/signal_emitter.hpp"
#include "sinks/plugin_sink.hpp"
#include "clickhouse/register_builtins.hpp"
#include "sinks/register_builtins.hpp"

namespace af {
namespace {

using Clock = std::chrono::steady_clock;

std::string env(const char* n) {
  const char* v = std::getenv(n);
  return v ? v : "";
}

const std::vector<std::string> kSymbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT",
                                           "ADAUSDT", "DOGEUSDT", "AVAXUSDT"};
const std::string kDag = "bench_dag";
const std::string kFrame = "ohlcv";
const std::string kColumn = "model.prediction";
constexpr int64_t kT0 = 1'704'067'200'000;  // 2024-01-01

// Record i: symbols round-robin, one bar (1m) per round, so keys are unique and
// each symbol's records come in ts order.
PredictionRecord record(uint64_t i) {
  PredictionRecord r;
  r.symbol = &kSymbols[i % kSymbols.size()];
  r.ts = kT0 + static_cast<int64_t>(i / kSymbols.size()) * 60'000;
  r.prediction = std::sin(static_cast<double>(i)) * 0.7;
  r.dag_name = &kDag;
  r.frame = &kFrame;
  r.column = &kColumn;
  r.emitted_at = r.ts + 1500;
  r.origin = BarOrigin::kStream;
  return r;
}

// A sink from a registry entry, with the descriptor's defaults filled in (as
// the DSL's validation does).
std::unique_ptr<Sink> make_sink(const SinkRegistry& reg, const std::string& plugin, registry::Params params,
                                const std::string& name) {
  const auto* e = reg.find(plugin);
  if (!e) {
    std::fprintf(stderr, "no sink %s\n", plugin.c_str());
    std::exit(1);
  }
  for (const auto& spec : e->descriptor.params) {
    if (!params.has(spec.name) && !std::holds_alternative<std::monostate>(spec.default_value))
      params.set(spec.name, spec.default_value);
  }
  auto s = e->factory(SinkContext{params, name, kDag, "0123456789abcdef"});
  if (!s) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), s.error().message.c_str());
    std::exit(1);
  }
  return std::move(s).value();
}

void throughput(const std::string& label, std::unique_ptr<Sink> sink, uint64_t n) {
  SinkWorkerOptions o;
  o.block_when_full = true;  // measure the sink, not the queue: nothing spills or drops
  SignalEmitter e(o);
  e.add(label, std::move(sink));
  if (Status st = e.open_all(); !st) {
    std::printf("sink=%s error=\"%s\"\n", label.c_str(), st.error().message.c_str());
    return;
  }
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) e.emit(record(i));
  Status st = e.close();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto s = e.stats()[0];
  std::printf("sink=%s records=%llu seconds=%.3f records_per_s=%.0f sent=%llu failed=%llu retried=%llu%s\n",
              label.c_str(), static_cast<unsigned long long>(n), secs, static_cast<double>(n) / secs,
              static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.failed),
              static_cast<unsigned long long>(s.retried), st ? "" : (" error=\"" + st.error().message + "\"").c_str());
  std::fflush(stdout);
}

// The sink alone on the calling thread: write() in batches of 512 (the worker's
// batch size), then close(); thread CPU time, so other processes' load does not count.
void direct(const std::string& label, std::unique_ptr<Sink> sink, uint64_t n) {
  if (Status st = sink->open(); !st) {
    std::printf("sink=%s error=\"%s\"\n", label.c_str(), st.error().message.c_str());
    return;
  }
  std::vector<PredictionRecord> batch;
  batch.reserve(512);
  timespec c0{}, c1{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  for (uint64_t i = 0; i < n;) {
    batch.clear();
    for (; i < n && batch.size() < 512; ++i) batch.push_back(record(i));
    if (Status st = sink->write(batch); !st) std::printf("sink=%s error=\"%s\"\n", label.c_str(), st.error().message.c_str());
  }
  Status st = sink->close();
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  const double secs = static_cast<double>(c1.tv_sec - c0.tv_sec) + static_cast<double>(c1.tv_nsec - c0.tv_nsec) * 1e-9;
  std::printf("sink=%s records=%llu cpu_seconds=%.3f records_per_cpu_s=%.0f ns_per_record=%.1f%s\n", label.c_str(),
              static_cast<unsigned long long>(n), secs, static_cast<double>(n) / secs, secs * 1e9 / static_cast<double>(n),
              st ? "" : (" error=\"" + st.error().message + "\"").c_str());
  std::fflush(stdout);
}

// A sink that counts what it receives.
class CountingSink : public Sink {
 public:
  explicit CountingSink(std::atomic<uint64_t>& n) : n_(n) {}
  Status open() override { return {}; }
  Status write(std::span<const PredictionRecord> batch) override {
    n_.fetch_add(batch.size(), std::memory_order_relaxed);
    return {};
  }
  Status flush() override { return {}; }
  Status close() override { return {}; }

 private:
  std::atomic<uint64_t>& n_;
};

// A sink whose write() blocks until `release` turns true (a database that hangs).
class StalledSink : public Sink {
 public:
  explicit StalledSink(std::atomic<bool>& release) : release_(release) {}
  Status open() override { return {}; }
  Status write(std::span<const PredictionRecord>) override {
    while (!release_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return {};
  }
  Status flush() override { return {}; }
  Status close() override { return {}; }

 private:
  std::atomic<bool>& release_;
};

double pct(std::vector<double>& v, double p) {
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void stall(bool stalled, uint64_t n, int64_t gap_ns) {
  const auto dir = std::filesystem::temp_directory_path() / ("af_sinks_bench_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::atomic<uint64_t> received{0};
  std::atomic<bool> release{!stalled};
  SignalEmitter e;  // the live service's settings: never block the caller; spool what cannot be queued
  e.set_spool_dir(dir.string());
  e.add("stalled", std::make_unique<StalledSink>(release));
  e.add("healthy", std::make_unique<CountingSink>(received));
  if (Status st = e.open_all(); !st) {
    std::printf("stall error=\"%s\"\n", st.error().message.c_str());
    return;
  }
  std::vector<double> us;
  us.reserve(n);
  const auto start = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    // Paced like a busy live service (one record per gap_ns), timing emit() only.
    while (Clock::now() - start < std::chrono::nanoseconds(static_cast<int64_t>(i) * gap_ns)) {
    }
    const auto t0 = Clock::now();
    e.emit(record(i));
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const auto emitted = Clock::now();
  // The healthy sink keeps receiving while the other one hangs.
  while (received.load() < n && Clock::now() - emitted < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double healthy_lag_ms = std::chrono::duration<double, std::milli>(Clock::now() - emitted).count();
  const auto stats = e.stats();
  const uint64_t healthy_before_release = received.load();
  release = true;
  Status st = e.close();
  const double max_us = *std::max_element(us.begin(), us.end());
  const double p50 = pct(us, 0.50), p99 = pct(us, 0.99), p999 = pct(us, 0.999);
  std::printf(
      "stall=%s records=%llu gap_us=%.1f emit_p50_us=%.3f emit_p99_us=%.3f emit_p999_us=%.3f emit_max_us=%.1f "
      "healthy_received=%llu healthy_drained_ms_after_last_emit=%.1f stalled_queue=%llu stalled_spooled=%llu "
      "close=%s\n",
      stalled ? "yes" : "no", static_cast<unsigned long long>(n), static_cast<double>(gap_ns) / 1000.0, p50, p99,
      p999, max_us, static_cast<unsigned long long>(healthy_before_release), healthy_lag_ms,
      static_cast<unsigned long long>(stats[0].queue_depth), static_cast<unsigned long long>(stats[0].spooled),
      st ? "ok" : st.error().message.c_str());
  std::fflush(stdout);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace af

int main(int argc, char** argv) {
  using namespace af;
  uint64_t n = 1'000'000, db_n = 200'000, dynamo_n = 20'000, stall_n = 200'000;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--records") n = std::stoull(argv[i + 1]);
    else if (a == "--db-records") db_n = std::stoull(argv[i + 1]);
    else if (a == "--dynamodb-records") dynamo_n = std::stoull(argv[i + 1]);
    else if (a == "--stall-records") stall_n = std::stoull(argv[i + 1]);
    else if (a == "--only") only = argv[i + 1];
  }
  set_log_level("warn");
  if (only.empty() || only == "throughput") {
    SinkRegistry reg;
    sinks::register_builtins(reg);
    DataSourceRegistry data_unused;
    clickhouse::register_builtins(data_unused, reg);
    const auto dir = std::filesystem::temp_directory_path() / ("af_sinks_bench_out_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
      registry::Params p;
      p.set("path", (dir / "predictions.csv").string());
      throughput("sinks.csv_append", make_sink(reg, "sinks.csv_append", p, "sinks.csv_append[0]"), n);
      p.set("path", (dir / "predictions_direct.csv").string());
      direct("sinks.csv_append(direct)", make_sink(reg, "sinks.csv_append", p, "sinks.csv_append[1]"), n);
    }
#ifdef AF_JSONL_PLUGIN
    if (Status st = sinks::load_and_register_sink_plugin(reg, AF_JSONL_PLUGIN); !st) {
      std::printf("sink=sinks.jsonl error=\"%s\"\n", st.error().message.c_str());
    } else {
      registry::Params p;
      p.set("path", (dir / "predictions.jsonl").string());
      throughput("sinks.jsonl(plugin)", make_sink(reg, "sinks.jsonl", p, "sinks.jsonl[0]"), n);
    }
#endif
    if (const std::string url = env("AF_CLICKHOUSE_URL"); !url.empty()) {
      registry::Params p;
      p.set("url", url);
      p.set("table_name", "bench_" + std::to_string(::getpid()));
      p.set("create_table", true);
      throughput("sinks.clickhouse", make_sink(reg, "sinks.clickhouse", p, "sinks.clickhouse[0]"), db_n);
    } else {
      std::printf("sink=sinks.clickhouse skipped=AF_CLICKHOUSE_URL_unset\n");
    }
    if (const std::string url = env("AF_DYNAMODB_URL"); !url.empty()) {
      if (env("AWS_ACCESS_KEY_ID").empty()) ::setenv("AWS_ACCESS_KEY_ID", "testing", 1);
      if (env("AWS_SECRET_ACCESS_KEY").empty()) ::setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
      registry::Params p;
      p.set("endpoint_url", url);
      p.set("table_name", "bench_" + std::to_string(::getpid()));
      p.set("create_table", true);
      throughput("sinks.dynamodb", make_sink(reg, "sinks.dynamodb", p, "sinks.dynamodb[0]"), dynamo_n);
    } else {
      std::printf("sink=sinks.dynamodb skipped=AF_DYNAMODB_URL_unset\n");
    }
    std::filesystem::remove_all(dir);
  }
  if (only.empty() || only == "stall") {
    // 200k records at one per 5 us: far more than a live service emits (one per
    // symbol per bar), and more than the stalled sink's queue (65 536) holds.
    stall(false, stall_n, 5'000);
    stall(true, stall_n, 5'000);
  }
  return 0;
}
