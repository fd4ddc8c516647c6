// `alpha_forge ingest FILE --bus URL`: the pipeline's data steps published to
// NATS JetStream (docs/scale-out.md; app/BusIngest).

#include <filesystem>
#include <iostream>
#include <memory>

#include "app/builtin_plugins.hpp"
#include "app/bus_ingest.hpp"
#include "app/commands.hpp"
#include "app/stop_signals.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "service/metrics_server.hpp"

namespace af::app {

int run_ingest_command(const IngestArgs& args) {
  PluginSet plugins;
  register_all_builtins(plugins);
  auto plan = load_plan(args.file, plugins, LoadMode::kRun, nullptr, args.shard);
  if (!plan) return kExitInvalid;

  BusIngestOptions o;
  auto bus = nats::parse_bus_options(args.bus);
  if (!bus) {
    std::cerr << "error: " << bus.error().message << '\n';
    return kExitInvalid;
  }
  o.bus = std::move(*bus);
  o.stream = args.bus_stream;
  o.retention_days = args.bus_retention_days;
  o.replicas = args.bus_replicas;
  o.duplicate_window_ms = args.bus_duplicate_window_s * 1000;
  if (Status st = check_bus_ingest(*plan, o); !st) {
    std::cerr << "error: " << st.error().message << '\n';
    return kExitInvalid;
  }
  if (!args.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.state_dir, ec);
    if (!std::filesystem::is_directory(args.state_dir, ec)) {
      std::cerr << "error: --state-dir " << args.state_dir << ": not a directory and cannot be created\n";
      return kExitFailure;
    }
  }
  o.live.ws_url = args.ws_url;
  o.live.rest_url = args.rest_url;
  o.live.vision_url = args.vision_url;
  o.live.base_url = args.base_url;
  o.live.ca_file = args.ca_file;
  o.live.state_dir = args.state_dir;
  o.live.cache_dir = args.cache_dir;
  o.live.anchor_timeout_ms = args.anchor_timeout_s * 1000;

  std::cout << "ingest " << plan->name << " (" << plan->file << ")"
            << (args.shard ? " shard " + args.shard->to_string() : std::string()) << " to stream " << o.stream << " on "
            << o.bus.redacted() << std::endl;
  IngestMetrics ingest_metrics;
  ingest_metrics.unhealthy_after_ms = args.bus_unhealthy_after_s * 1000;
  std::unique_ptr<service::MetricsServer> metrics;
  if (args.metrics_port >= 0) {
    service::MetricsServerOptions mo;
    mo.bind_address = args.metrics_bind;
    mo.port = static_cast<uint16_t>(args.metrics_port);
    mo.metrics = [&ingest_metrics] { return ingest_metrics.text(); };
    mo.health = [&ingest_metrics] { return ingest_metrics.health(now_ms()); };
    metrics = std::make_unique<service::MetricsServer>(mo);
    if (auto st = metrics->start(); !st) {
      std::cerr << "error: " << st.error().message << '\n';
      return kExitFailure;
    }
    std::cout << "metrics http://" << args.metrics_bind << ':' << metrics->port() << "/metrics" << std::endl;
  }

  install_stop_handlers();
  auto report = run_bus_ingest(*plan, plugins, o, stop_requested(), ingest_metrics);
  if (metrics) metrics->stop();
  if (!report) {
    std::cerr << "error: " << report.error().message << '\n';
    return kExitFailure;
  }
  std::cout << "Ingest completed: anchor=" << (report->anchor ? format_iso8601(report->anchor) : std::string("none"))
            << " history_bars=" << report->history_bars << " live_bars=" << report->live_bars
            << " published=" << report->published << " stored=" << report->stored
            << " duplicates=" << report->duplicates << " retries=" << report->retries
            << " resumed_symbols=" << report->resumed_symbols << " seconds=" << report->seconds << std::endl;
  return kExitOk;
}

}  // namespace af::app
