#pragma once
// The alpha_forge commands. Each returns the process exit code: 0 success,
// 1 runtime failure (I/O, data), 2 invalid pipeline or usage, 3 (signal) every
// record was delivered but the final state snapshot is not on disk.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.hpp"
#include "common/shard.hpp"
#include "dag/plan.hpp"
#include "runtime/plugin_set.hpp"

namespace af::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitSnapshotFailed = 3;

// How load_plan treats sink plugins: kRun loads them (dlopen), kValidate only
// checks that each listed path exists (loading would run the plugin's code) and
// leaves warnings out of stderr (the printed plan lists them).
enum class LoadMode { kRun, kValidate };

// Loads the sink plugins the pipeline lists (and ALPHA_FORGE_SINK_PLUGINS; see
// plugin_paths.hpp), then parses, expands and compiles FILE and builds every
// operator once (Engine::check), so a plan returned here also starts. Prints
// every error and warning to stderr; nullopt when there were errors.
// `diagnostics`, when given, receives them all (`validate --json`). With
// `shard`, the plan keeps only the symbols that shard owns, or is refused (a step
// that needs every symbol, a shard owning none): dag/shard_plan.hpp.
std::optional<dag::Plan> load_plan(const std::string& file, PluginSet& plugins, LoadMode mode = LoadMode::kRun,
                                   Diagnostics* diagnostics = nullptr,
                                   const std::optional<ShardSpec>& shard = std::nullopt);

// `signal` (and `replay` without --dump or --print) needs a sink, as
// the original requires on_prediction: false after printing the located error.
bool require_sinks(const dag::Plan& plan, const std::string& command, const std::string& without);

struct ValidateArgs {
  std::string file;
  bool json = false;
  std::optional<ShardSpec> shard;  // --shard K/N: check and print the plan as that shard runs it
};
int run_validate(const ValidateArgs& args);

struct ReplayArgs {
  std::string file;
  std::string data_dir;
  std::string from;  // ISO-8601, "" = default
  std::string to;
  std::vector<std::string> dumps;  // FRAME=PATH
  std::string state_dir;           // spool files of sinks that could not take records ("" = none)
  bool fresh = false;              // start every sink's output anew
  std::string gap_policy = "bridge";  // bridge, reset or fail
  bool print_predictions = false;  // `ts symbol prediction` lines on stdout, as `signal --print`
  bool no_cache = false;           // decode every archive, neither reading nor writing `<zip>.bars`
  std::optional<ShardSpec> shard;  // --shard K/N: replay only the symbols this shard owns
  uint32_t threads = 0;            // --threads N: compute threads (0: one per core)
};
int run_replay_command(const ReplayArgs& args);

struct SignalArgs {
  std::string file;
  std::string state_dir;  // snapshots, spools and the Vision cache ("" = none)
  std::string cache_dir;  // Vision cache ("" = <state_dir>/vision-cache or ~/.cache/alpha_forge/vision)
  std::string ws_url, rest_url, vision_url;  // "" = environment, else Binance
  std::string base_url;                       // all three endpoints of one (simulated) exchange
  std::string ca_file;
  int metrics_port = -1;  // -1: no metrics endpoint
  std::string metrics_bind = "127.0.0.1";
  int64_t snapshot_every_s = 10;
  int64_t snapshot_max_age_s = 0;  // 0: max(6 x snapshot_every_s, 60)
  int64_t spool_max_mb = 1024;
  int64_t anchor_timeout_s = 120;
  bool print_predictions = false;
  std::optional<ShardSpec> shard;  // --shard K/N: subscribe to and compute only this shard's symbols
  uint32_t threads = 0;            // --threads N: compute threads (0: one per core)
  std::string bus;                    // --bus URL[,URL...]: data steps read from the bus ("" = the exchange)
  std::string bus_stream = "AF_BARS";  // --bus-stream
  int64_t bus_unhealthy_after_s = 60;  // /healthz: the bus unreachable longer than this
};
// The live service: runs until SIGINT/SIGTERM, then drains and exits 0 (3 when
// the final snapshot failed).
int run_signal_command(const SignalArgs& args);

struct IngestArgs {
  std::string file;
  std::string bus;                       // --bus URL[,URL...]
  std::string bus_stream = "AF_BARS";
  int64_t bus_retention_days = 0;        // 0: the pipeline's lookback_days
  int bus_replicas = 1;
  int64_t bus_duplicate_window_s = 3600;
  std::string state_dir;                 // the archive cache lives there ("" = none)
  std::string cache_dir;
  std::string ws_url, rest_url, vision_url, base_url;
  std::string ca_file;
  int64_t anchor_timeout_s = 120;
  int metrics_port = -1;  // -1: no metrics endpoint
  std::string metrics_bind = "127.0.0.1";
  int64_t bus_unhealthy_after_s = 60;  // /healthz: the bus unreachable longer than this
  std::optional<ShardSpec> shard;      // --shard K/N: stream and publish only this shard's symbols
};
// Publishes the pipeline's bars to the bus until SIGINT/SIGTERM (docs/scale-out.md).
int run_ingest_command(const IngestArgs& args);

struct PluginsArgs {
  bool json = false;
  bool markdown = false;
  std::vector<std::string> plugin_paths;  // --plugin PATH: list only the sinks of these plugins
};
int run_plugins(const PluginsArgs& args);

struct SynthDataArgs {
  std::string out;
  std::vector<std::string> symbols;
  std::string interval = "1h";
  std::string from;
  std::string to;
  uint64_t seed = 42;
};
// Writes a seeded synthetic Binance Vision mirror (futures layout) for offline runs.
int run_synth_data(const SynthDataArgs& args);

}  // namespace af::app
