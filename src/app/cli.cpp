#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.hpp"
#include "common/log.hpp"
#include "net/proxy_config.hpp"
#include "python/interpreter.hpp"
#include "sim/sim_exchange.hpp"

namespace af::app {

namespace {

// `--shard K/N` on a command: checked while parsing (a bad value is a usage error,
// exit 2, with parse_shard's message), converted once parsing is done.
CLI::Option* add_shard_option(CLI::App* command, std::string& text, const std::string& what) {
  return command
      ->add_option("--shard", text,
                   "K/N (1-based): " + what +
                       " only the symbols whose FNV-1a hash modulo N is K-1 (docs/scale-out.md, Sharding)")
      ->check([](const std::string& value) {
        auto shard = parse_shard(value);
        return shard ? std::string() : shard.error().message;
      });
}

std::optional<ShardSpec> shard_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return *parse_shard(text);  // checked by the option's validator
}

// --proxy and --no-proxy, on the commands that connect out (signal: Binance and
// the sinks; replay: the sinks; ingest: Binance; the NATS bus connects directly).
struct ProxyArgs {
  std::string url;
  CLI::Option* url_option = nullptr;
  bool none = false;
};

void add_proxy_flags(CLI::App* command, ProxyArgs& args) {
  args.url_option = command->add_option(
      "--proxy", args.url,
      "http://[user[:password]@]host[:port]: every connection goes through this proxy's CONNECT tunnel (replaces "
      "HTTPS_PROXY, http_proxy, ALL_PROXY; NO_PROXY still applies)");
  auto* none = command->add_flag("--no-proxy", args.none, "connect directly, whatever the *_PROXY variables say");
  none->excludes(args.url_option);
}

// Resolves the proxy policy from the environment and the flags and installs it
// for every client of the process, before any of them starts. False (the error
// printed) on a bad proxy URL.
bool install_proxy(const ProxyArgs& args) {
  net::ProxyFlags flags;
  if (args.url_option != nullptr && args.url_option->count() > 0) flags.proxy = args.url;
  flags.no_proxy = args.none;
  auto config = net::resolve_proxy_config(flags);
  if (!config) {
    std::cerr << "error: " << config.error().message << '\n';
    return false;
  }
  if (!config->empty()) {
    logger("app")->info("proxy https={} http={} no_proxy={}", config->https ? config->https->display() : "-",
                        config->http ? config->http->display() : "-",
                        config->no_proxy.empty() ? "-" : config->no_proxy);
  }
  net::install_process_proxy_config(std::move(*config));
  return true;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"alpha_forge: a real-time signal engine for Binance klines, driven by a YAML pipeline"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  auto* log_level_option = app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (default warn; info for signal)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  ValidateArgs validate;
  auto* v = app.add_subcommand("validate", "Parse, expand and compile a pipeline; print the plan or every error");
  v->add_option("FILE", validate.file, "pipeline YAML")->required();
  v->add_flag("--json", validate.json, "print the plan as JSON");
  std::string validate_shard;
  add_shard_option(v, validate_shard, "check and print the plan for");

  ReplayArgs replay;
  auto* r = app.add_subcommand("replay", "Run a pipeline over history from a Binance Vision mirror");
  r->add_option("FILE", replay.file, "pipeline YAML")->required();
  r->add_option("--data", replay.data_dir, "root of a Binance Vision mirror (holds data/futures/um/...)")->required();
  r->add_option("--from", replay.from, "first streamed bar (inclusive), ISO-8601 UTC; default: earliest + lookback");
  r->add_option("--to", replay.to, "end (exclusive), ISO-8601 UTC; default: end of the data");
  r->add_option("--dump", replay.dumps, "FRAME=PATH: write every row of FRAME to a CSV file (repeatable)");
  r->add_option("--state-dir", replay.state_dir, "keep sink spool files here (records a sink could not take yet)");
  r->add_flag("--fresh", replay.fresh,
              "start every sink's output anew (a CSV file is emptied, spools of earlier runs are dropped)");
  r->add_option("--gap-policy", replay.gap_policy,
                "where a series misses bars: bridge (default: warn, features carry their state across), reset "
                "(the symbol starts afresh after the gap and warms up again) or fail")
      ->check(CLI::IsMember({"bridge", "reset", "fail"}));
  r->add_flag("--no-cache", replay.no_cache,
              "decode every archive zip, neither reading nor writing the decoded-bar cache (<zip>.bars)");
  r->add_flag("--print", replay.print_predictions, "print each prediction to stdout as `ts symbol prediction`");
  std::string replay_shard;
  add_shard_option(r, replay_shard, "replay");
  r->add_option("--threads", replay.threads,
                "compute threads, each running its own symbols (default: one per core, never more than symbols; "
                "predictions identical to --threads 1)")
      ->check(CLI::Range(1, 1024));
  ProxyArgs replay_proxy;
  add_proxy_flags(r, replay_proxy);

  SignalArgs sig;
  auto* s = app.add_subcommand("signal", "The live service: warm up, stream Binance klines, emit predictions until Ctrl+C");
  s->add_option("FILE", sig.file, "pipeline YAML")->required();
  s->add_option("--state-dir", sig.state_dir, "snapshots, sink spools and the archive cache: restarts resume here");
  s->add_option("--metrics-port", sig.metrics_port, "serve Prometheus /metrics and /healthz on this port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  s->add_option("--metrics-bind", sig.metrics_bind, "address of the metrics endpoint (default 127.0.0.1)");
  s->add_option("--binance-ws-url", sig.ws_url, "WebSocket base (default $ALPHA_FORGE_BINANCE_WS_URL, else Binance)");
  s->add_option("--binance-rest-url", sig.rest_url, "REST base (default $ALPHA_FORGE_BINANCE_REST_URL, else Binance)");
  s->add_option("--binance-vision-url", sig.vision_url,
                "bulk archive base (default $ALPHA_FORGE_BINANCE_VISION_URL, else data.binance.vision)");
  s->add_option("--binance-base-url", sig.base_url,
                "http(s)://HOST:PORT serving all three endpoints, as sim-exchange does (default "
                "$ALPHA_FORGE_BINANCE_BASE_URL); a per-endpoint flag or variable wins")
      ->check([](const std::string& url) {
        return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0
                   ? std::string()
                   : std::string("expected an http:// or https:// URL, got '" + url + "'");
      });
  s->add_option("--ca-file", sig.ca_file, "CA bundle for TLS (default $SSL_CERT_FILE, else the system CAs)");
  s->add_option("--cache-dir", sig.cache_dir, "archive cache (default <state-dir>/vision-cache or ~/.cache/alpha_forge)");
  s->add_option("--snapshot-every", sig.snapshot_every_s, "seconds between state snapshots (default 10)")
      ->check(CLI::Range(1, 86400));
  s->add_option("--snapshot-max-age", sig.snapshot_max_age_s,
                "seconds without a snapshot after which /healthz is unhealthy (default 0: 6 x --snapshot-every, at "
                "least 60)")
      ->check(CLI::Range(0, 7 * 86400));
  s->add_option("--spool-max-mb", sig.spool_max_mb,
                "bound of each sink's spool file in MiB (default 1024); when full, newer records are held back until "
                "a restart")
      ->check(CLI::Range(1, 1024 * 1024));
  s->add_option("--anchor-timeout", sig.anchor_timeout_s, "seconds to wait for the first kline message (default 120)")
      ->check(CLI::Range(1, 3600));
  s->add_option("--bus", sig.bus,
                "nats://HOST:PORT[,...]: read every data step's bars from the market-data bus (JetStream) instead of "
                "the exchange (docs/scale-out.md)");
  s->add_option("--bus-stream", sig.bus_stream, "the bus's bar stream (default AF_BARS)");
  s->add_option("--bus-unhealthy-after", sig.bus_unhealthy_after_s,
                "seconds the bus may be unreachable before /healthz is unhealthy (default 60)")
      ->check(CLI::Range(1, 86400));
  s->add_flag("--print", sig.print_predictions, "print each prediction to stdout as `ts symbol prediction`");
  std::string signal_shard;
  add_shard_option(s, signal_shard, "subscribe to and compute");
  s->add_option("--threads", sig.threads,
                "compute threads, each running its own symbols (default: one per core, never more than symbols; "
                "a snapshot loads with any thread count)")
      ->check(CLI::Range(1, 1024));
  ProxyArgs signal_proxy;
  add_proxy_flags(s, signal_proxy);

  IngestArgs ingest;
  auto* in = app.add_subcommand("ingest", "Publish a pipeline's bars (history and live) to a NATS JetStream stream");
  in->add_option("FILE", ingest.file, "pipeline YAML (its data steps are run)")->required();
  in->add_option("--bus", ingest.bus,
                 "NATS servers, nats://[user:pass@]host:port[,...] (credentials also from AF_NATS_USER/"
                 "AF_NATS_PASSWORD, AF_NATS_TOKEN, AF_NATS_CREDS)")
      ->required();
  in->add_option("--bus-stream", ingest.bus_stream, "the JetStream stream (default AF_BARS; created when absent)");
  in->add_option("--bus-retention", ingest.bus_retention_days,
                 "days the stream keeps bars; at least the pipeline's lookback_days (default: that lookback)")
      ->check(CLI::Range(1, 3650));
  in->add_option("--bus-replicas", ingest.bus_replicas, "replicas of a stream created here (default 1; 3 on a cluster)")
      ->check(CLI::Range(1, 5));
  in->add_option("--bus-duplicate-window", ingest.bus_duplicate_window_s,
                 "seconds the server de-duplicates ids of a stream created here (default 3600)")
      ->check(CLI::Range(1, 7 * 86400));
  in->add_option("--state-dir", ingest.state_dir, "the archive cache lives here (<state-dir>/vision-cache)");
  in->add_option("--cache-dir", ingest.cache_dir, "archive cache (default <state-dir>/vision-cache or ~/.cache/alpha_forge)");
  in->add_option("--binance-ws-url", ingest.ws_url, "WebSocket base (default $ALPHA_FORGE_BINANCE_WS_URL, else Binance)");
  in->add_option("--binance-rest-url", ingest.rest_url, "REST base (default $ALPHA_FORGE_BINANCE_REST_URL, else Binance)");
  in->add_option("--binance-vision-url", ingest.vision_url,
                 "bulk archive base (default $ALPHA_FORGE_BINANCE_VISION_URL, else data.binance.vision)");
  in->add_option("--binance-base-url", ingest.base_url, "http(s)://HOST:PORT serving all three endpoints");
  in->add_option("--ca-file", ingest.ca_file, "CA bundle for TLS (default $SSL_CERT_FILE, else the system CAs)");
  in->add_option("--anchor-timeout", ingest.anchor_timeout_s, "seconds to wait for the first kline message (default 120)")
      ->check(CLI::Range(1, 3600));
  in->add_option("--metrics-port", ingest.metrics_port, "serve Prometheus /metrics and /healthz on this port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  in->add_option("--metrics-bind", ingest.metrics_bind, "address of the metrics endpoint (default 127.0.0.1)");
  in->add_option("--bus-unhealthy-after", ingest.bus_unhealthy_after_s,
                 "seconds the bus may be unreachable before /healthz turns unhealthy (default 60)")
      ->check(CLI::Range(1, 86400));
  std::string ingest_shard;
  add_shard_option(in, ingest_shard, "stream and publish");
  ProxyArgs ingest_proxy;
  add_proxy_flags(in, ingest_proxy);

  PluginsArgs plugins;
  auto* p = app.add_subcommand("plugins", "List every plugin with its parameters");
  p->add_flag("--json", plugins.json, "as JSON");
  p->add_flag("--markdown", plugins.markdown, "as Markdown (docs/plugins.md)");
  p->add_option("--plugin", plugins.plugin_paths,
                "PATH: load this sink plugin and list only its sinks and params (repeatable)");

  SynthDataArgs synth;
  auto* g = app.add_subcommand("synth-data", "Write a seeded synthetic Binance Vision mirror for offline runs");
  g->add_option("--out", synth.out, "root directory of the mirror")->required();
  g->add_option("--symbols", synth.symbols, "symbols, comma separated")->delimiter(',')->required();
  g->add_option("--interval", synth.interval, "bar interval (default 1h)");
  g->add_option("--from", synth.from, "first bar, ISO-8601 UTC")->required();
  g->add_option("--to", synth.to, "end (exclusive), ISO-8601 UTC")->required();
  g->add_option("--seed", synth.seed, "generator seed (default 42)");

  sim::SimExchangeOptions sim_options;
  int sim_port = 0;
  auto* x = app.add_subcommand("sim-exchange",
                               "A simulated Binance (WS klines, REST, Vision archive) on loopback, with faults");
  x->add_option("--data", sim_options.data_dir, "a Binance Vision mirror to serve; default: a seeded generator");
  x->add_option("--port", sim_port, "TCP port (HTTP and WebSocket on one listener; 0: a free port, printed)")
      ->required()
      ->check(CLI::Range(0, 65535));
  x->add_option("--start", sim_options.start_text, "simulated time at start, ISO-8601 UTC");
  x->add_option("--speed", sim_options.speed, "simulated seconds per wall second (default 1)");
  x->add_option("--faults", sim_options.faults_text, "fault spec, e.g. disconnect=0.02,duplicate=0.05 or all");
  x->add_option("--symbols", sim_options.symbols, "generator symbols, comma separated")->delimiter(',');
  x->add_option("--interval", sim_options.interval, "generator interval (default 1m)");
  x->add_option("--seed", sim_options.seed, "generator seed (default 42)");
  x->add_option("--tls-cert-dir", sim_options.tls_cert_dir, "generate a test CA and certificate here and serve TLS too");

  // `--version` works before and after any command.
  const std::string version = std::string("alpha_forge ") + AF_VERSION;
  app.set_version_flag("--version", version);
  for (CLI::App* sub : app.get_subcommands({})) sub->set_version_flag("--version", version);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitInvalid;
  }
  validate.shard = shard_of(validate_shard);
  replay.shard = shard_of(replay_shard);
  sig.shard = shard_of(signal_shard);
  ingest.shard = shard_of(ingest_shard);
  if ((s->parsed() || in->parsed()) && log_level_option->count() == 0) log_level = "info";
  set_log_level(log_level);

  // Every Python sink is closed when its command returns; the interpreter, if
  // one started, is finalised after them, on the thread that started it.
  struct FinalizePython {
    ~FinalizePython() { python::finalize_interpreter(); }
  } finalize_python;
  try {
    if (v->parsed()) return run_validate(validate);
    if (r->parsed()) return install_proxy(replay_proxy) ? run_replay_command(replay) : kExitInvalid;
    if (s->parsed()) return install_proxy(signal_proxy) ? run_signal_command(sig) : kExitInvalid;
    if (in->parsed()) return install_proxy(ingest_proxy) ? run_ingest_command(ingest) : kExitInvalid;
    if (p->parsed()) return run_plugins(plugins);
    if (g->parsed()) return run_synth_data(synth);
    if (x->parsed()) {
      sim_options.port = static_cast<uint16_t>(sim_port);
      return sim::run_sim_exchange(sim_options);
    }
  } catch (const std::exception& e) {
    // Every expected failure is a Result; reaching here is a bug, reported in one line.
    std::cerr << "internal error: " << e.what() << '\n';
    return kExitFailure;
  }
  return kExitInvalid;
}

}  // namespace af::app
