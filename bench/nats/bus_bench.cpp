// bus_bench: bars per second through the market-data bus (issue 14), with the
// classes `ingest` and `signal --bus` use: nats::Publisher (publish_bar, waiting
// for each ack as ingest does, or pipelined with a window of outstanding acks)
// into a JetStream stream with file storage, and a nats::BusBarFeed (the durable
// pull consumer a shard reads, acking after on_settled()) reading them back.
//
//   bus_bench --bus nats://127.0.0.1:4222 [--replicas 1] [--bars 200000] [--symbols 200]
//             [--mode sync|async] [--window 1024] [--fetch-batch 256] [--stream AF_BENCH_BARS]
//             [--burst-every-ms MS]
//
// Without --burst-every-ms the bars go out as fast as the publisher can (the
// throughput); with it, one bar per symbol every MS ms, each burst drained as an
// ingest round is, every bar stamped with its publish moment in the header a live
// bar carries (Af-Final-At-Us): the consumer reports the hop from that moment to
// poll() (hop_p50_ms ... hop_max_ms), what the bus adds to close-to-emit.
//
// The publisher runs in this process, the consumer in a child process (this
// binary again, `--role consume`), started before the first publish, so each
// side's process CPU time (getrusage: every thread, the client library's too) is
// its own. The stream is deleted and created anew (subjects af.bars.bench.>,
// replicas as asked) and deleted at the end. Prints one key=value line on stdout:
//
//   publish_bars_per_s     bars / wall time from the first publish to the last ack
//   end_to_end_bars_per_s  bars / wall time from the first publish to the last bar the
//                          consumer polled (both on CLOCK_MONOTONIC, shared by the processes)
//   publish_cpu_us_per_bar, consume_cpu_us_per_bar   process CPU time per bar
//   publish_thread_cpu_us_per_bar                    the publishing thread alone
//   out_of_order           bars a symbol received at or before its previous one (must be 0)
//
// Run by hand (never by ctest) against servers started by bench/nats/run_bus_bench.py
// or scripts/nats_cluster.sh. Exit code 0 only when every bar was acked and consumed.

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "nats/bar_stream.hpp"
#include "nats/bus_bar_feed.hpp"
#include "nats/bus_connection.hpp"
#include "nats/bus_options.hpp"
#include "nats/publisher.hpp"
#include "nats/stream_admin.hpp"

extern char** environ;

namespace {

using namespace af;

struct Args {
  std::string bus;
  std::string stream = "AF_BENCH_BARS";
  std::string role = "publish";
  std::string mode = "async";
  int replicas = 1;
  int64_t bars = 200'000;
  int symbols = 200;
  int window = 1024;
  int fetch_batch = 256;
  int64_t timeout_s = 300;
  int64_t burst_every_ms = 0;  // 0: flood; else one bar per symbol every this many ms (a live close)
};

// How this binary was started: the consumer is this binary again (argv[0] when
// it names a path, so that it also works under valgrind; /proc/self/exe otherwise).
std::string self_path = "/proc/self/exe";

constexpr const char* kSource = "bench";
constexpr const char* kInterval = "1m";
constexpr int64_t kIntervalMs = 60'000;

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "bus_bench: %s\nusage: bus_bench --bus URLS [--replicas N] [--bars N] [--symbols N] "
               "[--mode sync|async] [--window N] [--fetch-batch N] [--stream NAME] [--timeout S]\n"
               "                 [--burst-every-ms MS]\n",
               problem.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage("missing value of " + k);
    const std::string v = argv[++i];
    if (k == "--bus") a.bus = v;
    else if (k == "--stream") a.stream = v;
    else if (k == "--role") a.role = v;
    else if (k == "--mode") a.mode = v;
    else if (k == "--replicas") a.replicas = std::stoi(v);
    else if (k == "--bars") a.bars = std::stoll(v);
    else if (k == "--symbols") a.symbols = std::stoi(v);
    else if (k == "--window") a.window = std::stoi(v);
    else if (k == "--fetch-batch") a.fetch_batch = std::stoi(v);
    else if (k == "--timeout") a.timeout_s = std::stoll(v);
    else if (k == "--burst-every-ms") a.burst_every_ms = std::stoll(v);
    else usage("unknown option " + k);
  }
  if (a.bus.empty()) usage("--bus is required");
  if (a.mode != "sync" && a.mode != "async") usage("--mode is sync or async");
  if (a.bars <= 0 || a.symbols <= 0 || a.window <= 0 || a.fetch_batch <= 0 || a.replicas <= 0)
    usage("counts must be positive");
  return a;
}

int64_t mono_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::vector<std::string> symbol_names(int n) {
  std::vector<std::string> out;
  char name[32];
  for (int i = 0; i < n; ++i) {
    std::snprintf(name, sizeof name, "S%04dUSDT", i);
    out.emplace_back(name);
  }
  return out;
}

std::string durable_name() { return nats::durable_consumer_name("bench", kSource, kInterval, 0, "all"); }

std::unique_ptr<nats::BusConnection> connect_or_exit(const Args& a, const char* name) {
  auto opts = nats::parse_bus_options(a.bus);
  if (!opts) usage(opts.error().message);
  nats::ConnectPolicy policy;
  policy.name = name;
  auto c = nats::BusConnection::connect(*opts, policy);
  if (!c) {
    std::fprintf(stderr, "bus_bench: %s\n", c.error().message.c_str());
    std::exit(1);
  }
  return std::move(c).value();
}

// ---- the consumer (child process): a BusBarFeed driven as the live service drives it

int run_consumer(const Args& a) {
  auto opts = nats::parse_bus_options(a.bus);
  if (!opts) usage(opts.error().message);
  nats::BusBarFeedOptions o;
  o.bus = *opts;
  o.connect.name = "bus_bench consumer";
  o.stream = a.stream;
  o.durable = durable_name();
  o.source = kSource;
  o.interval = kInterval;
  o.interval_ms = kIntervalMs;
  o.universe = symbol_names(a.symbols);
  o.step_path = "bus_bench";
  o.fetch_batch = a.fetch_batch;
  o.anchor_timeout_ms = a.timeout_s * 1000;
  const double cpu0 = process_cpu_s();
  nats::BusBarFeed feed(o);
  if (Status st = feed.start(); !st) {
    std::fprintf(stderr, "bus_bench consumer: %s\n", st.error().message.c_str());
    return 1;
  }
  const int64_t deadline = mono_ns() + a.timeout_s * 1'000'000'000;
  // The anchor is the first bar; no history (every bar comes live).
  while (!feed.wait_for_anchor(100)) {
    if (auto e = feed.error()) {
      std::fprintf(stderr, "bus_bench consumer: %s\n", e->message.c_str());
      return 1;
    }
    if (mono_ns() > deadline) {
      std::fprintf(stderr, "bus_bench consumer: no bar within %lld s\n", static_cast<long long>(a.timeout_s));
      return 1;
    }
  }
  feed.begin_history(std::vector<int64_t>(o.universe.size(), std::numeric_limits<int64_t>::max()), false);
  std::vector<LiveFeedBar> out;
  int64_t got = 0, first_ns = 0, last_ns = 0;
  std::vector<int64_t> last_ts(o.universe.size(), std::numeric_limits<int64_t>::min());
  int64_t out_of_order = 0;
  std::vector<int64_t> latency_us;  // header's moment (the publish) to poll(), per bar
  latency_us.reserve(static_cast<size_t>(a.bars));
  while (got < a.bars && mono_ns() < deadline) {
    out.clear();
    if (!feed.poll(out, 100)) {
      std::fprintf(stderr, "bus_bench consumer: %s\n", feed.error() ? feed.error()->message.c_str() : "stopped");
      return 1;
    }
    if (out.empty()) continue;
    if (first_ns == 0) first_ns = mono_ns();
    for (const auto& b : out) {
      if (b.history) continue;
      ++got;
      if (b.bar.ts <= last_ts[b.symbol]) ++out_of_order;
      // Only bursts carry the publish moment; a flood's bars are stamped at hand-over.
      if (a.burst_every_ms > 0 && b.final_at_us > 0) latency_us.push_back(feed_clock_us() - b.final_at_us);
      last_ts[b.symbol] = b.bar.ts;
    }
    last_ns = mono_ns();
    feed.on_settled();  // every bar "processed": acked as a shard acks
  }
  const double cpu = process_cpu_s() - cpu0;
  const auto c = feed.counters();
  feed.stop();
  std::sort(latency_us.begin(), latency_us.end());
  const auto pct = [&](double q) {
    if (latency_us.empty()) return std::nan("");
    const auto n = static_cast<double>(latency_us.size());
    const size_t rank = std::min(latency_us.size() - 1, static_cast<size_t>(q * n));
    return static_cast<double>(latency_us[rank]) / 1000.0;
  };
  std::printf("consumed=%lld first_ns=%lld last_ns=%lld cpu_s=%.4f received=%llu acked=%llu redelivered=%llu "
              "out_of_order=%lld hop_p50_ms=%.3f hop_p99_ms=%.3f hop_p999_ms=%.3f hop_max_ms=%.3f\n",
              static_cast<long long>(got), static_cast<long long>(first_ns), static_cast<long long>(last_ns), cpu,
              static_cast<unsigned long long>(c.received), static_cast<unsigned long long>(c.acked),
              static_cast<unsigned long long>(c.redelivered), static_cast<long long>(out_of_order), pct(0.5), pct(0.99),
              pct(0.999), latency_us.empty() ? std::nan("") : static_cast<double>(latency_us.back()) / 1000.0);
  std::fflush(stdout);
  return got == a.bars ? 0 : 1;
}

// ---- the publisher (this process)

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
};

Child spawn_consumer(const Args& a) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("bus_bench: pipe");
    std::exit(1);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  std::vector<std::string> args{"bus_bench",    "--role",        "consume",
                                "--bus",        a.bus,           "--stream",
                                a.stream,       "--bars",        std::to_string(a.bars),
                                "--symbols",    std::to_string(a.symbols), "--fetch-batch",
                                std::to_string(a.fetch_batch),   "--timeout", std::to_string(a.timeout_s),
                                "--burst-every-ms", std::to_string(a.burst_every_ms)};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  Child c;
  const int rc = posix_spawn(&c.pid, self_path.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    std::fprintf(stderr, "bus_bench: cannot start the consumer process (error %d)\n", rc);
    std::exit(1);
  }
  c.out = fdopen(fds[0], "r");
  return c;
}

std::map<std::string, std::string> parse_line(const std::string& line) {
  std::map<std::string, std::string> kv;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string::npos) end = line.size();
    const std::string tok = line.substr(pos, end - pos);
    const size_t eq = tok.find('=');
    if (eq != std::string::npos) kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    pos = end + 1;
  }
  return kv;
}

void delete_stream(nats::BusConnection& bus, const std::string& name) {
  jsErrCode code = static_cast<jsErrCode>(0);
  js_DeleteStream(bus.jetstream(), name.c_str(), nullptr, &code);
}

bool wait_for_consumer(nats::BusConnection& bus, const Args& a) {
  const std::string durable = durable_name();
  const int64_t deadline = mono_ns() + 30'000'000'000LL;
  while (mono_ns() < deadline) {
    jsConsumerInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetConsumerInfo(&info, bus.jetstream(), a.stream.c_str(), durable.c_str(), nullptr, &code) == NATS_OK) {
      jsConsumerInfo_Destroy(info);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int run_publisher(const Args& a) {
  auto bus = connect_or_exit(a, "bus_bench publisher");
  delete_stream(*bus, a.stream);
  nats::StreamSpec spec;
  spec.name = a.stream;
  spec.subjects = {std::string(nats::kBarSubjectRoot) + "." + kSource + ".>"};
  spec.replicas = a.replicas;
  spec.duplicate_window_ms = 3'600'000;  // ingest's default
  if (auto d = nats::ensure_stream(*bus, spec, true); !d) {
    std::fprintf(stderr, "bus_bench: %s\n", d.error().message.c_str());
    return 1;
  }
  Child child = spawn_consumer(a);
  if (!wait_for_consumer(*bus, a)) {
    std::fprintf(stderr, "bus_bench: the consumer did not appear within 30 s\n");
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
    return 1;
  }

  // Bars in close order, every symbol's bar of one minute before the next minute:
  // what a live universe publishes (and a seeded random walk for the values).
  const auto syms = symbol_names(a.symbols);
  std::vector<nats::BarMessage> msgs;
  msgs.reserve(static_cast<size_t>(a.bars));
  const int64_t t0 = 1'735'689'600'000;  // 2025-01-01
  uint64_t rng = 88172645463325252ULL;
  std::vector<double> price(syms.size(), 100.0);
  for (int64_t i = 0; i < a.bars; ++i) {
    const size_t s = static_cast<size_t>(i % a.symbols);
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    const double r = static_cast<double>(rng % 2001) / 1000.0 - 1.0;
    nats::BarMessage m;
    m.series = {kSource, kInterval, syms[s]};
    Bar& b = m.bar;
    b.ts = t0 + (i / a.symbols) * kIntervalMs;
    b.open = price[s];
    b.close = price[s] * (1 + 0.001 * r);
    b.high = std::max(b.open, b.close) * 1.0005;
    b.low = std::min(b.open, b.close) * 0.9995;
    b.volume = 1000 + 10 * static_cast<double>(rng % 97);
    b.quote_volume = b.volume * b.close;
    b.trades = static_cast<double>(100 + rng % 50);
    b.taker_buy_volume = b.volume / 2;
    b.taker_buy_quote_volume = b.quote_volume / 2;
    b.origin = BarOrigin::kStream;
    b.complete = true;
    price[s] = b.close;
    msgs.push_back(std::move(m));
  }

  nats::Publisher publisher(*bus, a.stream, a.window);
  int64_t failures = 0;
  std::string first_failure;
  const double cpu0 = process_cpu_s(), tcpu0 = thread_cpu_s();
  const int64_t start_ns = mono_ns();
  const auto drain = [&] {
    auto failed = publisher.drain();
    if (!failed) {
      if (failures++ == 0) first_failure = failed.error().message;
    } else if (!failed->empty()) {
      if (failures == 0) first_failure = failed->front().error.message;
      failures += static_cast<int64_t>(failed->size());
    }
  };
  int64_t next_burst_ns = start_ns;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const bool burst_start = a.burst_every_ms > 0 && i % static_cast<size_t>(a.symbols) == 0;
    if (burst_start) {
      // A live close: every symbol's bar at once, stamped with this moment as
      // ingest stamps the moment its feed found them final (Af-Final-At-Us).
      next_burst_ns += a.burst_every_ms * 1'000'000;
      const int64_t now = mono_ns();
      if (i > 0 && next_burst_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(next_burst_ns - now));
    }
    const int64_t final_at = a.burst_every_ms > 0 ? std::chrono::duration_cast<std::chrono::microseconds>(
                                                         std::chrono::system_clock::now().time_since_epoch())
                                                         .count()
                                                   : 0;
    if (a.mode == "sync") {
      auto ack = nats::publish_bar(publisher, msgs[i], final_at);
      if (!ack && failures++ == 0) first_failure = ack.error().message;
    } else if (Status st = nats::publish_bar_async(publisher, msgs[i], final_at); !st && failures++ == 0) {
      first_failure = st.error().message;
    }
    // A burst ends as an ingest round does: every ack awaited.
    if (a.mode == "async" && a.burst_every_ms > 0 && (i + 1) % static_cast<size_t>(a.symbols) == 0) drain();
  }
  if (a.mode == "async") drain();
  const int64_t acked_ns = mono_ns();
  const double pub_cpu = process_cpu_s() - cpu0, pub_tcpu = thread_cpu_s() - tcpu0;
  const auto counters = publisher.counters();

  // The consumer's line, then its exit.
  std::string line;
  char buf[1024];
  while (std::fgets(buf, sizeof buf, child.out)) line += buf;
  std::fclose(child.out);
  int status = 0;
  waitpid(child.pid, &status, 0);
  delete_stream(*bus, a.stream);
  const auto kv = parse_line(line.empty() ? "" : line.substr(0, line.find('\n')));
  const auto num = [&](const char* k) { return kv.count(k) ? std::stod(kv.at(k)) : std::nan(""); };
  const double n = static_cast<double>(a.bars);
  const double pub_s = static_cast<double>(acked_ns - start_ns) / 1e9;
  const double e2e_s = (num("last_ns") - static_cast<double>(start_ns)) / 1e9;
  std::printf(
      "replicas=%d mode=%s window=%d fetch_batch=%d bars=%lld symbols=%d publish_s=%.3f publish_bars_per_s=%.0f "
      "publish_cpu_us_per_bar=%.2f publish_thread_cpu_us_per_bar=%.2f stored=%llu duplicates=%llu failed=%lld "
      "consumed=%.0f end_to_end_s=%.3f end_to_end_bars_per_s=%.0f consume_cpu_us_per_bar=%.2f redelivered=%.0f "
      "out_of_order=%.0f hop_p50_ms=%.3f hop_p99_ms=%.3f hop_p999_ms=%.3f hop_max_ms=%.3f consumer_exit=%d\n",
      a.replicas, a.mode.c_str(), a.window, a.fetch_batch, static_cast<long long>(a.bars), a.symbols, pub_s,
      n / pub_s, 1e6 * pub_cpu / n, 1e6 * pub_tcpu / n, static_cast<unsigned long long>(counters.acked),
      static_cast<unsigned long long>(counters.duplicates), static_cast<long long>(failures), num("consumed"), e2e_s,
      num("consumed") / e2e_s, 1e6 * num("cpu_s") / n, num("redelivered"), num("out_of_order"),
      num("hop_p50_ms"), num("hop_p99_ms"), num("hop_p999_ms"), num("hop_max_ms"),
      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  if (!first_failure.empty()) std::fprintf(stderr, "bus_bench: first failure: %s\n", first_failure.c_str());
  const bool ok = failures == 0 && num("consumed") == n && num("out_of_order") == 0 && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::string(argv[0]).find('/') != std::string::npos) self_path = argv[0];
  const Args a = parse(argc, argv);
  set_log_level("warn");
  return a.role == "consume" ? run_consumer(a) : run_publisher(a);
}
