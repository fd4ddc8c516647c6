#pragma once
// SimExchange: a simulated Binance exchange on loopback, for tests, demos and
// offline runs of the live service. One listener serves HTTP and WebSocket
// (plain, and TLS when certificates are generated): combined kline streams
// (futures /market/stream, /stream, /ws), REST klines and server time (futures
// /fapi/v1, spot /api/v3) with weight headers, the Binance Vision bulk archive
// (/data/...), and /sim/stats. Bars come from a Vision mirror or a seeded
// generator and are published as a simulated clock passes their close; faults are
// injected from a seeded FaultSpec.
//
// Owned by its creator (a test, or run_sim_exchange). start() and stop() are
// called from that thread; start() runs one io thread that owns every socket,
// timer and all market state (no locks). stats(), sim_now_ms() and port() are
// thread-safe. Call stop() before destruction (the destructor stops a running
// exchange as a last resort, and says so in the log).

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "sim/fault_spec.hpp"

namespace af::sim {

struct SimExchangeOptions {
  std::string data_dir;                 // Vision mirror root; "" = the seeded generator
  std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"};  // generator mode
  std::string interval = "1m";          // generator mode: the interval of the default start alignment
  uint64_t seed = 42;                   // generator seed
  std::optional<int64_t> start_ms;      // simulated time at start(); default: see docs/sim_exchange.md
  double speed = 1.0;                   // simulated ms per wall ms
  FaultSpec faults;
  std::string tls_cert_dir;             // non-empty: generate certificates here and accept TLS too
  std::string bind_address = "127.0.0.1";
  int stream_limit = 1024;              // streams per WebSocket connection
  int updates_per_bar = 3;              // x=false frames per bar before the closing frame
  int64_t close_delay_ms = 7;           // simulated ms between close time T and the x=true frame's E
  int64_t ping_interval_ms = 0;         // wall ms between server pings; 0 = 3 min (spot 20 s) / speed, min 20 ms
  int64_t pong_timeout_ms = 0;          // wall ms without pong before dropping; 0 = 10 min (spot 1 min) / speed, min 1 s
  int64_t max_connection_age_ms = 0;    // wall ms before a connection is cut; 0 = 24 h / speed (min 1 s)
  int futures_weight_limit = 2400;      // REST weight per minute (wall) before natural 429s
  int spot_weight_limit = 6000;
  int retry_after_s = 1;                // Retry-After of injected 429 / 418
  int64_t generator_history_days = 365; // generator mode: bars exist from start - this
  int64_t archive_delay_ms = 0;         // simulated ms after a period's end before its archive file appears
  bool strict_market_route = false;     // futures klines only on /market/... (bare routes acknowledge, send nothing)

  // Used by run_sim_exchange only (the CLI fills them; library users set the
  // typed fields above): the port, and --start / --faults as text, parsed and
  // validated by run_sim_exchange (they override start_ms / faults when non-empty).
  uint16_t port = 0;
  std::string start_text;
  std::string faults_text;
};

// Counters of what the exchange did, for tests (also served at /sim/stats).
struct SimStats {
  uint64_t ws_connections = 0, ws_open = 0, ws_frames = 0, ws_pings = 0, ws_pongs = 0;
  uint64_t ws_refused_stream_limit = 0, ws_pong_timeouts = 0, ws_age_cuts = 0;
  uint64_t rest_requests = 0, archive_requests = 0;
  // injected faults
  uint64_t disconnects = 0, stalls = 0, duplicates = 0, late_closes = 0, missing_closes = 0, reorders = 0;
  uint64_t rest_429 = 0, rest_418 = 0, corrupt_archives = 0, huge_zips = 0, stalled_archives = 0;
  // Every symbol a client asked about: a kline stream it subscribed to, a REST
  // klines request, an archive file (what a `--shard K/N` process must not touch).
  std::set<std::string> symbols_requested;
  std::string json() const;
};

class SimExchange {
 public:
  explicit SimExchange(SimExchangeOptions options);
  ~SimExchange();
  SimExchange(const SimExchange&) = delete;
  SimExchange& operator=(const SimExchange&) = delete;

  // Binds `port` on the bind address (0 = an ephemeral port), generates the TLS
  // files when asked, starts the clock and the io thread.
  Status start(uint16_t port);
  // Closes every connection and the listener, joins the io thread. Idempotent.
  void stop();

  bool running() const;
  uint16_t port() const;
  int64_t sim_now_ms() const;       // simulated time now
  int64_t sim_start_ms() const;     // simulated time at start()
  SimStats stats() const;
  std::string ca_file() const;      // "<tls dir>/ca.pem", "" without TLS

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The `alpha_forge sim-exchange` command: parses start_text / faults_text,
// starts an exchange on options.port, logs where it listens, runs until SIGINT or
// SIGTERM, stops. Exit code 0; 1 when it cannot start; 2 for invalid options.
int run_sim_exchange(const SimExchangeOptions& options);

}  // namespace af::sim
