#pragma once
// Publisher: publishes messages to one JetStream stream, each with its
// de-duplication id (header Nats-Msg-Id), and waits for the server's ack, so that
// a message counts as delivered only once the stream stored it (replicated, when
// the stream has replicas). The ack says whether the server stored it anew or
// recognised the id inside the stream's duplicate window (then it stored nothing).
// Used by `ingest` for bars and by `sinks.nats` for predictions. Thread-safe
// (the counters are atomic; the connection is the client's thread-safe one).

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "nats/bus_connection.hpp"

namespace af::nats {

struct PublishAck {
  uint64_t sequence = 0;   // the stream sequence (the original one for a duplicate)
  bool duplicate = false;  // the id was already in the stream's duplicate window
};

// Cumulative counts, for the metrics: every publish call is `published`; its
// outcome is one of `acked` (stored anew), `duplicates` (refused as a duplicate),
// `failed` (no ack: a timeout, no server, a refusal).
struct PublishCounters {
  uint64_t published = 0, acked = 0, duplicates = 0, failed = 0;
};

class Publisher {
 public:
  // `stream` is the stream the ack must come from (a subject taken by another
  // stream is an error, not a silent success there).
  Publisher(BusConnection& bus, std::string stream);

  // Publishes and waits for the ack (at most the connection's request timeout).
  // Errors name the subject, the id and the bus; transient ones may be retried
  // with the same id, which the server de-duplicates.
  Result<PublishAck> publish(const std::string& subject, const std::string& msg_id, std::string_view payload);

  PublishCounters counters() const;
  const std::string& stream() const { return stream_; }
  BusConnection& bus() { return bus_; }

 private:
  BusConnection& bus_;
  const std::string stream_;
  std::atomic<uint64_t> published_{0}, acked_{0}, duplicates_{0}, failed_{0};
};

}  // namespace af::nats
