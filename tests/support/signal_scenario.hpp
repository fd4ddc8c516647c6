#pragma once
// Test support for end-to-end runs of the live service: `alpha_forge signal` (a
// child process) against the simulated exchange (in the test's process) serving a
// generated Binance Vision mirror over WebSocket, REST and the bulk archive. One
// place for the steps every such test takes: start the exchange, write a
// pipeline, start `signal` with the test's flags, wait for N predictions in its
// CSV sink, stop it with a signal, read what it wrote.
//
// Needs AF_BINARY (the alpha_forge binary) defined and af::sim linked. Used on the
// test's main thread.

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "common/time.hpp"
#include "sim/sim_exchange.hpp"
#include "support/child_process.hpp"
#include "support/process.hpp"

namespace af::testing {

inline const std::string kAlphaForge = AF_BINARY;
// A warmup over the archive plus a few dozen live bars fit in it on a loaded machine.
inline constexpr std::chrono::seconds kServiceDeadline{120};

// The mirror `synth-data` writes and how the exchange serves it.
struct SimMarketOptions {
  std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"};
  std::string interval = "1m";
  std::string from = "2024-01-01";  // the mirror's first bar
  std::string to = "2024-01-20";    // and its end (exclusive)
  std::string start = "2024-01-10T00:07:00Z";  // simulated time when the exchange starts
  double speed = 600;                          // simulated seconds per wall second: a 1m bar every 100 ms
  std::string faults = "none";                 // sim-exchange --faults
  std::string last_symbol_to;                  // "": none; else the last symbol's bars end here (its mirror stops)
};

// The simulated exchange serving `<dir>/mirror` on a loopback port; stopped when it goes.
class SimMarket {
 public:
  SimMarket() = default;
  SimMarket(const SimMarket&) = delete;
  SimMarket& operator=(const SimMarket&) = delete;
  ~SimMarket() { stop(); }

  // Writes the mirror and starts the exchange: "" when it runs, else what failed.
  std::string start(const std::string& dir, const SimMarketOptions& o = {}) {
    std::string symbols;
    const size_t full = o.last_symbol_to.empty() ? o.symbols.size() : o.symbols.size() - 1;
    for (size_t i = 0; i < full; ++i) symbols += (symbols.empty() ? "" : ",") + o.symbols[i];
    auto gen = run_command(kAlphaForge + " synth-data --out " + dir + "/mirror --symbols " + symbols +
                           " --interval " + o.interval + " --from " + o.from + " --to " + o.to);
    if (gen.exit_code != 0) return "synth-data: " + gen.err;
    if (!o.last_symbol_to.empty()) {
      auto cut = run_command(kAlphaForge + " synth-data --out " + dir + "/mirror --symbols " + o.symbols.back() +
                             " --interval " + o.interval + " --from " + o.from + " --to " + o.last_symbol_to);
      if (cut.exit_code != 0) return "synth-data: " + cut.err;
    }
    sim::SimExchangeOptions so;
    so.data_dir = dir + "/mirror";
    const auto start = parse_iso8601(o.start);
    if (!start) return "not an ISO-8601 time: " + o.start;
    so.start_ms = *start;
    so.speed = o.speed;
    auto faults = sim::parse_fault_spec(o.faults);
    if (!faults) return faults.error().message;
    so.faults = *faults;
    exchange_ = std::make_unique<sim::SimExchange>(so);
    started_at_ms_ = now_ms();
    if (auto started = exchange_->start(0); !started) return started.error().message;
    return "";
  }
  void stop() {
    if (exchange_) exchange_->stop();
  }

  sim::SimExchange& exchange() { return *exchange_; }
  // Wall time (ms since the epoch) just before the exchange's clock started.
  int64_t started_at_ms() const { return started_at_ms_; }
  std::string base() const { return "127.0.0.1:" + std::to_string(exchange_->port()); }
  // The flags that point `signal` at this exchange's three endpoints.
  std::vector<std::string> binance_flags() const {
    return {"--binance-ws-url", "ws://" + base() + "/market/stream", "--binance-rest-url", "http://" + base(),
            "--binance-vision-url", "http://" + base()};
  }

 private:
  std::unique_ptr<sim::SimExchange> exchange_;
  int64_t started_at_ms_ = 0;
};

// The pipeline most service tests run: `universe` (a YAML list's items) at 1m,
// RSI(14) into a linear model, a day of lookback, predictions to a CSV sink keyed
// by (ts, symbol).
inline std::string rsi_linear_pipeline(const std::string& name, const std::string& csv,
                                       const std::string& universe = "BTCUSDT, ETHUSDT") {
  return "name: " + name + "\n"
         "signal_generation:\n"
         "  mode: stream\n"
         "  warmup:\n"
         "    lookback_days: 1\n"
         "  scheduling:\n"
         "    interval: 1m\n"
         "    buffer_minutes: 1\n"
         "  on_prediction:\n"
         "    - using: sinks.csv_append\n"
         "      params:\n"
         "        path: " + csv + "\n"
         "        dedup_key: [ts, symbol]\n"
         "pipeline:\n"
         "  - data:\n"
         "      using: data.binance_futures\n"
         "      outputs: {frame: ohlcv}\n"
         "      params: {universe: [" + universe + "], interval: 1m}\n"
         "  - features:\n"
         "      using: features.rsi\n"
         "      inputs: {column: ohlcv.close}\n"
         "      outputs: {columns: [rsi_14]}\n"
         "      params: {window: 14}\n"
         "  - model:\n"
         "      using: models.linear\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params:\n"
         "        features: [rsi_14]\n"
         "        weights: [-0.04]\n"
         "        bias: 2.0\n"
         "        output_col: model.prediction\n";
}

// Starts `alpha_forge --log-level info signal PIPELINE FLAGS... <market's flags>`,
// its stdout and stderr in `<out_prefix>.out` and `<out_prefix>.err`; `env`
// entries ("K=V") added to the environment.
inline std::unique_ptr<ChildProcess> start_signal(const std::string& pipeline, const SimMarket& market,
                                                  const std::string& out_prefix,
                                                  const std::vector<std::string>& flags,
                                                  const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{kAlphaForge, "--log-level", "info", "signal", pipeline};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const auto binance = market.binance_flags();
  argv.insert(argv.end(), binance.begin(), binance.end());
  return std::make_unique<ChildProcess>(argv, out_prefix + ".out", out_prefix + ".err", env);
}

// The metrics endpoint of a service started with `--metrics-port 0`, from the
// "metrics http://HOST:PORT/metrics" line it prints ("http://HOST:PORT"), or ""
// when it ended or did not print it in time.
inline std::string wait_metrics_url(const ChildProcess& p,
                                    std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
  std::string url;
  wait_until(
      [&] {
        std::smatch m;
        const std::string out = p.out();
        if (!std::regex_search(out, m, std::regex("metrics (http://\\S+)/metrics"))) return !p.running();
        url = m[1].str();
        return true;
      },
      deadline);
  return url;
}

// Sum of every sample of a metric family (all label sets) in a Prometheus text
// scrape; -1 if absent.
inline double metric_sum(const std::string& scrape, const std::string& name) {
  double sum = 0;
  bool found = false;
  for (const auto& line : split_lines(scrape)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    const std::string key = line.substr(0, sp);
    if (key == name || key.rfind(name + "{", 0) == 0) {
      sum += std::stod(line.substr(sp + 1));
      found = true;
    }
  }
  return found ? sum : -1;
}

// Rows of a CSV sink's file after its header; 0 when it does not exist yet.
inline size_t csv_rows(const std::string& csv) {
  std::error_code ec;
  if (!std::filesystem::exists(csv, ec)) return 0;
  const auto lines = split_lines(read_file(csv));
  return lines.empty() ? 0 : lines.size() - 1;
}

// A CSV sink's predictions: (ts, symbol) -> prediction as written; keys seen twice counted.
struct CsvPredictions {
  std::map<std::pair<std::string, std::string>, std::string> rows;
  size_t duplicates = 0;
};

inline CsvPredictions read_csv_predictions(const std::string& csv) {
  CsvPredictions p;
  const auto lines = split_lines(read_file(csv));
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    if (f.size() < 3) continue;
    if (!p.rows.emplace(std::make_pair(f[0], f[1]), f[2]).second) ++p.duplicates;
  }
  return p;
}

// Waits until `csv` holds `rows` predictions or the service ends; true when it
// holds them.
inline bool wait_for_predictions(const ChildProcess& p, const std::string& csv, size_t rows,
                                 std::chrono::milliseconds deadline = kServiceDeadline) {
  wait_until([&] { return csv_rows(csv) >= rows || !p.running(); }, deadline);
  return csv_rows(csv) >= rows;
}

// Sends `sig` and waits for the exit: its code (128 + signal when killed), -1 at the deadline.
inline int stop_service(ChildProcess& p, int sig, std::chrono::milliseconds deadline = kServiceDeadline) {
  p.signal(sig);
  return p.wait(deadline);
}

// The anchor of a clean stop's summary line ("Signal generation completed:
// anchor=..."), or "".
inline std::string anchor_of(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("Signal generation completed: anchor=(\\S+)")) ? m[1].str() : "";
}

}  // namespace af::testing
