// engine_bench: the engine's compute cost per event "from decoded bars". Loads
// and compiles a pipeline file as `alpha_forge replay` does, builds the Engine
// with a delivery callback that only counts (no sink), warms every symbol with
// --warmup-rows history bars, then feeds --events streamed bars (symbols round
// robin, one timestamp after another, as the replay driver orders them):
//   1. a throughput pass, timed as a whole with thread CPU time;
//   2. a latency pass of the same length, timing each on_source_bar call with
//      steady_clock (adds ~20-40 ns of clock overhead per call) for p50/p99/p99.9.
// Bars come from a pre-generated seeded random walk (a pool per symbol, cycled),
// so no parsing or I/O is in the timed loops. Prints one key=value line, or JSON
// with --json. Single-threaded; run from the repository root (checkpoint paths).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "app/builtin_plugins.hpp"
#include "app/commands.hpp"
#include "runtime/engine.hpp"

namespace {

struct Options {
  std::string pipeline = "examples/08_signal_generation/minimal_offline.yaml";
  int64_t events = 1'000'000;
  int64_t warmup_rows = 720;
  bool json = false;
  bool skip_latency = false;
};

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Resident set now and at its peak (kB), from /proc/self/status.
std::pair<long, long> rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  long now = 0, peak = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) now = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) peak = std::atol(line.c_str() + 6);
  }
  return {now, peak};
}

// A seeded random walk of bars for one symbol; ts is set by the caller.
std::vector<af::Bar> make_pool(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0.0, 0.004);
  std::vector<af::Bar> pool(n);
  double price = 100.0 + static_cast<double>(seed % 97);
  for (auto& b : pool) {
    const double open = price;
    price *= std::exp(step(rng));
    b.open = open;
    b.close = price;
    b.high = std::max(open, price) * 1.001;
    b.low = std::min(open, price) * 0.999;
    b.volume = 1000.0 + static_cast<double>(rng() % 1000);
    b.quote_volume = b.volume * price;
    b.trades = 100;
    b.taker_buy_volume = b.volume / 2;
    b.taker_buy_quote_volume = b.quote_volume / 2;
  }
  return pool;
}

double percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "engine_bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--pipeline") o.pipeline = next();
    else if (a == "--events") o.events = std::atoll(next().c_str());
    else if (a == "--warmup-rows") o.warmup_rows = std::atoll(next().c_str());
    else if (a == "--json") o.json = true;
    else if (a == "--no-latency") o.skip_latency = true;
    else {
      std::cerr << "usage: engine_bench [--pipeline FILE] [--events N] [--warmup-rows N] [--json] [--no-latency]\n";
      return 2;
    }
  }

  af::PluginSet plugins;
  af::app::register_all_builtins(plugins);
  auto plan = af::app::load_plan(o.pipeline, plugins);
  if (!plan) return 2;
  if (plan->sources.size() != 1) {
    std::cerr << "engine_bench: expects one data step, found " << plan->sources.size() << '\n';
    return 2;
  }
  uint64_t predictions = 0;
  double checksum = 0;
  auto engine = af::Engine::create(*plan, plugins, [&](const af::PredictionRecord& r) {
    ++predictions;
    checksum += r.prediction;
  });
  if (!engine) {
    std::cerr << "engine_bench: " << engine.error().message << '\n';
    return 1;
  }
  af::Engine& e = **engine;
  const auto& universe = plan->sources[0].universe;
  const int64_t step = plan->sources[0].interval_ms;
  std::vector<af::SymbolId> ids;
  for (const auto& s : universe) ids.push_back(*e.symbols().find(s));
  const size_t n_sym = ids.size();

  // At most 2^18 pooled bars in all (25 MB; more would hide the engine's
  // own memory at 500 symbols); a power of two per symbol so the index is a mask.
  size_t pool_size = 1 << 14;
  while (pool_size > 256 && pool_size * n_sym > (size_t{1} << 18)) pool_size >>= 1;
  std::vector<std::vector<af::Bar>> pools;
  for (size_t s = 0; s < n_sym; ++s) pools.push_back(make_pool(pool_size, 1000 + s));

  // 2024-01-01T00:00:00Z: a boundary of every interval up to 1d.
  int64_t ts = 1704067200000;
  size_t row = 0;
  auto feed_row = [&](auto&& per_call) {
    for (size_t s = 0; s < n_sym; ++s) {
      af::Bar b = pools[s][row & (pool_size - 1)];
      b.ts = ts;
      per_call(s, b);
    }
    ++row;
    ts += step;
  };

  const int64_t anchor = ts + o.warmup_rows * step;
  e.set_anchor(anchor);
  const double w0 = thread_cpu_seconds();
  for (int64_t r = 0; r < o.warmup_rows; ++r) feed_row([&](size_t s, const af::Bar& b) { e.on_source_bar(0, ids[s], b); });
  const double warmup_cpu = thread_cpu_seconds() - w0;
  const auto rss_after_warmup = rss_kb();

  const int64_t rows = std::max<int64_t>(1, o.events / static_cast<int64_t>(n_sym));
  const uint64_t events = static_cast<uint64_t>(rows) * n_sym;
  const uint64_t pred0 = predictions;
  const double t0 = thread_cpu_seconds();
  const auto c0 = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < rows; ++r) feed_row([&](size_t s, const af::Bar& b) { e.on_source_bar(0, ids[s], b); });
  const double cpu = thread_cpu_seconds() - t0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
  const uint64_t pass_predictions = predictions - pred0;
  const auto rss_after_throughput = rss_kb();

  std::vector<uint32_t> lat;
  if (!o.skip_latency) {
    lat.reserve(events);
    for (int64_t r = 0; r < rows; ++r) {
      feed_row([&](size_t s, const af::Bar& b) {
        const auto a = std::chrono::steady_clock::now();
        e.on_source_bar(0, ids[s], b);
        const auto z = std::chrono::steady_clock::now();
        lat.push_back(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(z - a).count()));
      });
    }
  }
  double mean_ns = 0;
  for (auto v : lat) mean_ns += v;
  if (!lat.empty()) mean_ns /= static_cast<double>(lat.size());
  const double p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99), p999 = percentile(lat, 0.999);
  const double pmax = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
  const auto rss_end = rss_kb();

  struct Kv {
    const char* key;
    std::string value;
  };
  auto num = [](double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return std::string(buf);
  };
  const std::vector<Kv> kv{
      {"bench", "\"engine\""},
      {"pipeline", "\"" + o.pipeline + "\""},
      {"symbols", std::to_string(n_sym)},
      {"warmup_rows", std::to_string(o.warmup_rows)},
      {"pool_bars_per_symbol", std::to_string(pool_size)},
      {"events", std::to_string(events)},
      {"predictions", std::to_string(pass_predictions)},
      {"cpu_seconds", num(cpu)},
      {"wall_seconds", num(wall)},
      {"events_per_sec", num(static_cast<double>(events) / cpu)},
      {"ns_per_event", num(cpu * 1e9 / static_cast<double>(events))},
      {"warmup_cpu_seconds", num(warmup_cpu)},
      {"latency_mean_ns", num(mean_ns)},
      {"latency_p50_ns", num(p50)},
      {"latency_p99_ns", num(p99)},
      {"latency_p999_ns", num(p999)},
      {"latency_max_ns", num(pmax)},
      {"rss_kb_after_warmup", std::to_string(rss_after_warmup.first)},
      {"rss_kb_after_throughput", std::to_string(rss_after_throughput.first)},
      {"peak_rss_kb", std::to_string(rss_end.second)},
      {"checksum", num(checksum)},
  };
  if (o.json) {
    std::cout << "{";
    for (size_t i = 0; i < kv.size(); ++i) std::cout << (i ? ", " : "") << '"' << kv[i].key << "\": " << kv[i].value;
    std::cout << "}\n";
  } else {
    for (size_t i = 0; i < kv.size(); ++i) {
      std::string v = kv[i].value;
      v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
      std::cout << (i ? " " : "") << kv[i].key << '=' << v;
    }
    std::cout << '\n';
  }
  return 0;
}
