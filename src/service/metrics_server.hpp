#pragma once
// MetricsServer: a small HTTP/1.1 server (plain TCP, Boost.Beast) that the live service
// runs for `--metrics-port N`:
//   GET /metrics  -> 200, `text/plain; version=0.0.4; charset=utf-8`, the metrics callback's text
//   GET /healthz  -> 200 "ok\n" when healthy, else 503 "<reason>\n"
//   GET /status   -> 200, `application/json`, the status callback's text   } only with a
//   GET /         -> 200, the status page (service/status_page.hpp)        } status callback
//   other paths 404, methods other than GET/HEAD 405, unparsable requests 400 (then close).
// Keep-alive is honoured; idle connections are closed after `idle_timeout`. At most
// `max_sessions` connections are served at once: further ones wait in the kernel's
// listen backlog until one closes. A failing accept (out of file descriptors)
// backs off exponentially (10 ms .. 1 s) and is logged at most 5 times a minute.
//
// Owned by the live driver; start() and stop() are called from the owner's thread.
// The server runs one io thread of its own, and ALL CALLBACKS ARE CALLED ON THAT IO
// THREAD, concurrently with the engine: the caller makes them thread-safe (read atomics,
// or take a lock). A callback that throws gives a 500 for that request, nothing more.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace af::service {

struct HealthStatus {
  bool healthy = true;
  std::string reason;  // why not healthy ("warming up", "stream BTCUSDT@kline_1m stale for 95 s")
};

struct MetricsServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;                             // 0: an ephemeral port, see MetricsServer::port()
  std::function<std::string()> metrics;          // the /metrics body; empty function: empty body
  std::function<HealthStatus()> health;          // /healthz; empty function: always healthy
  std::function<std::string()> status;           // the /status JSON; empty function: no / and /status
  std::chrono::milliseconds idle_timeout{30000}; // a connection silent this long is closed
  size_t max_sessions = 64;                      // connections served at once
};

class MetricsServer {
 public:
  explicit MetricsServer(MetricsServerOptions options);
  ~MetricsServer();  // stops the server if still running
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds, listens and starts the io thread. Fails with a message naming the address,
  // e.g. "metrics server: cannot listen on 127.0.0.1:9100: Address already in use".
  Status start();
  // The bound port (the actual one when the option was 0); 0 before start().
  uint16_t port() const;
  // Closes the listener and every connection, then joins the io thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace af::service
