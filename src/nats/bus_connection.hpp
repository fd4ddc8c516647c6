#pragma once
// BusConnection: one connection to a NATS cluster and its JetStream context,
// owned by the component that publishes or consumes (the ingest command, a sink,
// a bus feed). The C client's connection is thread-safe: any thread may publish
// through it; its callbacks run on the client's own thread and only update the
// atomic health state read by `health()`.
//
// Once connected, the client reconnects by itself, forever, across every server
// of the list and those the cluster announces (reconnect wait + jitter), buffering
// what is published meanwhile; a call made while no server is reachable fails
// with a transient error after its timeout, and the caller retries.

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.hpp"
#include "nats/bus_options.hpp"

namespace af::nats {

struct ConnectPolicy {
  int64_t connect_timeout_ms = 2000;    // per server, for the first connection
  int64_t reconnect_wait_ms = 250;      // between two rounds over the servers
  int64_t reconnect_jitter_ms = 250;
  int64_t request_timeout_ms = 5000;    // a JetStream API call or a publish's ack
  int64_t ping_interval_ms = 2000;      // a dead server is noticed after 2 unanswered pings
  std::string name = "alpha_forge";     // the connection's name in the server's monitoring
};

// What the callbacks know, for /healthz and the metrics.
struct BusHealth {
  bool connected = false;
  int64_t disconnected_since_ms = 0;  // wall time of the loss, 0 while connected
  uint64_t disconnects = 0;
  uint64_t reconnects = 0;
};

class BusConnection {
 public:
  // Connects to one of the servers. The error names the redacted servers:
  // "NATS: connect to nats://127.0.0.1:4999: No server available for connection";
  // it is transient when no server answered, fatal when one refused the credentials.
  static Result<std::unique_ptr<BusConnection>> connect(const BusOptions& options, const ConnectPolicy& policy = {});

  ~BusConnection();  // closes the connection; waits (bounded) for the client's last callback
  BusConnection(const BusConnection&) = delete;
  BusConnection& operator=(const BusConnection&) = delete;

  natsConnection* connection() const { return nc_; }
  jsCtx* jetstream() const { return js_; }
  const std::string& bus() const { return bus_; }  // the redacted servers, for messages
  const ConnectPolicy& policy() const { return policy_; }
  BusHealth health() const;

  // The state the client's callbacks write; public so that they can reach it.
  struct State {
    std::atomic<bool> connected{false};
    std::atomic<int64_t> disconnected_since_ms{0};
    std::atomic<uint64_t> disconnects{0}, reconnects{0};
    std::mutex mutex;
    std::condition_variable closed_cv;
    bool closed = false;
    std::atomic<bool> closing{false};  // our own close: its disconnect is not a fault
    std::string bus;
  };

 private:
  BusConnection(natsConnection* nc, jsCtx* js, std::unique_ptr<State> state, std::string bus, ConnectPolicy policy);

  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::unique_ptr<State> state_;
  std::string bus_;
  ConnectPolicy policy_;
};

}  // namespace af::nats
