// The `alpha_forge sim-exchange` command body: an exchange that runs until
// SIGINT / SIGTERM. Called from the CLI's main thread.

#include <pthread.h>

#include <csignal>
#include <iostream>

#include "common/log.hpp"
#include "common/time.hpp"
#include "sim/sim_exchange.hpp"

namespace af::sim {

int run_sim_exchange(const SimExchangeOptions& given) {
  auto log = af::logger("sim");
  SimExchangeOptions options = given;
  if (!options.start_text.empty()) {
    auto t = parse_iso8601(options.start_text);
    if (!t) {
      log->error("--start '{}' is not an ISO-8601 UTC time (e.g. 2024-03-01T00:00:00Z)", options.start_text);
      return 2;
    }
    options.start_ms = *t;
  }
  if (!options.faults_text.empty()) {
    auto f = parse_fault_spec(options.faults_text);
    if (!f) {
      log->error("{}", f.error().message);
      return 2;
    }
    options.faults = *f;
  }
  // Block the signals in every thread (the io thread inherits the mask), then
  // wait for one here.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  SimExchange exchange(options);
  Status st = exchange.start(options.port);
  if (!st) {
    log->error("{}", st.error().message);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return 1;
  }
  // The one line a caller reads to find the port (--port 0 picks a free one).
  std::cout << "sim-exchange listening on " << options.bind_address << ':' << exchange.port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  log->info("event=signal signal={}", sig);
  exchange.stop();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  return 0;
}

}  // namespace af::sim
