// `alpha_forge signal FILE`: the live service (DESIGN §1, §2; service/LiveDriver).

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <iostream>
#include <thread>

#include "app/builtin_plugins.hpp"
#include "app/bus_feeds.hpp"
#include "app/commands.hpp"
#include "app/sink_setup.hpp"
#include "app/stop_signals.hpp"
#include "common/log.hpp"
#include "common/number_format.hpp"
#include "common/time.hpp"
#include "runtime/threaded_replay.hpp"
#include "service/live_driver.hpp"
#include "service/metrics_server.hpp"

namespace af::app {
namespace {

void print_plan_summary(const dag::Plan& plan, const SignalEmitter& sinks, const std::optional<ShardSpec>& shard) {
  std::cout << "signal " << plan.name << " (" << plan.file << ")";
  if (shard) std::cout << " shard " << shard->to_string();
  std::cout << '\n';
  for (const auto& s : plan.sources) {
    std::cout << "  source " << s.event << ": " << s.universe.size() << " symbols, warmup " << s.warmup_bars
              << " bars needed, lookback " << s.lookback_bars << " bars\n";
    if (shard) {
      std::string symbols;
      for (const auto& sym : s.universe) symbols += (symbols.empty() ? "" : ",") + sym;
      std::cout << "    this shard's symbols: " << symbols << '\n';
    }
  }
  std::cout << "  flows " << plan.flows.size() << ", steps " << plan.steps.size() << ", prediction column "
            << plan.prediction_column << ", sinks " << sinks.size() << '\n';
  std::cout.flush();
}

// --threads N, default one per core, never more than symbols; one, said why,
// when a step needs every symbol at once.
uint32_t signal_threads(const SignalArgs& args, const dag::Plan& plan) {
  uint32_t threads = args.threads > 0 ? args.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<uint32_t>(threads, static_cast<uint32_t>(std::max<size_t>(1, plan_universe(plan).size())));
  if (threads > 1) {
    if (const auto* step = step_needing_all_symbols(plan)) {
      const std::string why = "`" + step->plugin + "` (" + step->path + ") needs every symbol at once";
      if (args.threads > 1) std::cerr << "note: signal computes on one thread: " << why << '\n';
      else logger("service")->info("signal computes on one thread: {}", why);
      return 1;
    }
  }
  logger("service")->info("compute threads: {}", threads);
  return threads;
}

}  // namespace

int run_signal_command(const SignalArgs& args) {
  PluginSet plugins;
  register_all_builtins(plugins);
  auto plan = load_plan(args.file, plugins, LoadMode::kRun, nullptr, args.shard);
  if (!plan) return kExitInvalid;
  if (!require_sinks(*plan, "signal", "`validate` and `replay --dump` run without")) return kExitInvalid;
  if (const char* base = std::getenv("ALPHA_FORGE_BINANCE_BASE_URL"); base && *base && args.base_url.empty()) {
    // A base that is not a URL would otherwise fall back to the real Binance.
    const std::string b = base;
    if (b.rfind("http://", 0) != 0 && b.rfind("https://", 0) != 0) {
      std::cerr << "error: ALPHA_FORGE_BINANCE_BASE_URL: expected an http:// or https:// URL, got '" << b << "'\n";
      return kExitInvalid;
    }
  }

  if (!args.state_dir.empty()) {
    // Checked first: the spools and the snapshot both live there.
    std::error_code ec;
    std::filesystem::create_directories(args.state_dir, ec);
    if (!std::filesystem::is_directory(args.state_dir, ec)) {
      std::cerr << "error: --state-dir " << args.state_dir << ": not a directory and cannot be created\n";
      return kExitFailure;
    }
  }
  const std::string spool_dir = args.state_dir.empty() ? std::string() : args.state_dir + "/spool";
  // Live: a full sink queue spills to the spool; the event loop never waits.
  EmitterOptions delivery;
  delivery.spool_dir = spool_dir;
  delivery.spool_max_bytes = static_cast<uint64_t>(args.spool_max_mb) << 20;
  delivery.ca_file = args.ca_file;
  auto emitter = build_signal_emitter(*plan, plugins, delivery);
  if (!emitter) {
    std::cerr << "error: " << emitter.error().message << '\n';
    return kExitFailure;
  }
  SignalEmitter& sinks = **emitter;
  print_plan_summary(*plan, sinks, args.shard);

  // --bus: every data step from the bus; the exchange is never contacted.
  std::unique_ptr<BusFeeds> bus_feeds;
  if (!args.bus.empty()) {
    auto bus = nats::parse_bus_options(args.bus);
    if (!bus) {
      std::cerr << "error: " << bus.error().message << '\n';
      return kExitInvalid;
    }
    BusFeedArgs ba;
    ba.bus = std::move(bus).value();
    ba.stream = args.bus_stream;
    ba.unreachable_max_ms = args.bus_unhealthy_after_s * 1000;
    // One durable consumer per shard: shards sharing one would split its messages.
    if (args.shard) ba.shard = std::to_string(args.shard->k) + "of" + std::to_string(args.shard->n);
    bus_feeds = std::make_unique<BusFeeds>(std::move(ba));
  }

  service::LiveOptions o;
  o.ws_url = args.ws_url;
  o.rest_url = args.rest_url;
  o.vision_url = args.vision_url;
  o.base_url = args.base_url;
  o.ca_file = args.ca_file;
  o.state_dir = args.state_dir;
  o.cache_dir = args.cache_dir;
  o.snapshot_every_ms = args.snapshot_every_s * 1000;
  o.snapshot_max_age_ms = args.snapshot_max_age_s * 1000;
  o.anchor_timeout_ms = args.anchor_timeout_s * 1000;
  o.threads = signal_threads(args, *plan);
  o.shards = args.shard ? args.shard->n : 1;
  if (args.print_predictions) {
    o.on_prediction = [](const PredictionRecord& r) {
      std::printf("%s %s %s\n", format_iso8601(r.ts).c_str(), r.symbol->c_str(), format_double(r.prediction).c_str());
      std::fflush(stdout);
    };
  }
  if (bus_feeds) {
    BusFeeds* bf = bus_feeds.get();
    o.feed_factory = [bf](const dag::Plan& p, const dag::SourcePlan& sp, const LiveFeedSettings& st) {
      return bf->make(p, sp, st);
    };
    o.extra_metrics = [bf] { return bf->metrics_text(); };
    o.extra_health = [bf] { return bf->health(); };
  }
  auto driver = service::LiveDriver::create(*plan, plugins, sinks, o);
  if (!driver) {
    std::cerr << "error: " << driver.error().message << '\n';
    return kExitFailure;
  }

  std::unique_ptr<service::MetricsServer> metrics;
  if (args.metrics_port >= 0) {
    service::MetricsServerOptions mo;
    mo.bind_address = args.metrics_bind;
    mo.port = static_cast<uint16_t>(args.metrics_port);
    service::LiveDriver* d = driver->get();
    mo.metrics = [d] { return d->metrics_text(); };
    mo.health = [d] { return d->health(); };
    mo.status = [d] { return d->status_json(); };
    metrics = std::make_unique<service::MetricsServer>(mo);
    if (auto st = metrics->start(); !st) {
      std::cerr << "error: " << st.error().message << '\n';
      return kExitFailure;
    }
    logger("service")->info("metrics on http://{}:{}/metrics, /healthz, /status and the status page /",
                            args.metrics_bind, metrics->port());
    std::cout << "metrics http://" << args.metrics_bind << ':' << metrics->port() << "/metrics" << std::endl;
    std::cout << "status page http://" << args.metrics_bind << ':' << metrics->port() << "/" << std::endl;
  }

  install_stop_handlers();
  auto report = (*driver)->run(stop_requested());
  if (metrics) metrics->stop();
  if (!report) {
    std::cerr << "error: " << report.error().message << '\n';
    return kExitFailure;
  }
  const bool snapshot_failed = !report->final_snapshot_error.empty();
  std::cout << (snapshot_failed ? "Signal generation stopped WITHOUT its final snapshot: anchor="
                                : "Signal generation completed: anchor=")
            << format_iso8601(report->anchor) << (report->restored ? " restored=1" : " restored=0")
            << " history_bars=" << report->history_bars << " catch_up_bars=" << report->catch_up_bars
            << " live_bars=" << report->live_bars << " predictions=" << report->predictions
            << " snapshots=" << report->snapshots << " snapshot_failures=" << report->snapshot_failures
            << " seconds=" << report->seconds << std::endl;
  if (snapshot_failed) {
    std::cerr << "error: final snapshot failed: " << report->final_snapshot_error
              << " (the next start resumes from the previous snapshot)\n";
    return kExitSnapshotFailed;
  }
  return kExitOk;
}

}  // namespace af::app
