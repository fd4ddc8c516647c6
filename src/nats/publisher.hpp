#pragma once
// Publisher: publishes messages to one JetStream stream, each with its
// de-duplication id (header Nats-Msg-Id), and learns from the server's ack that
// the stream stored it (replicated, when the stream has replicas). The ack says
// whether the server stored it anew or recognised the id inside the stream's
// duplicate window (then it stored nothing). Used by `ingest` for bars and by
// `sinks.nats` for predictions. Thread-safe (the counters are atomic; the
// connection is the client's thread-safe one).
//
// Two ways to publish:
//   publish()         one message, waiting for its ack: one round trip per message
//                     (~100-200 us on loopback, so at most a few thousand a second);
//   publish_async()   pipelined: up to `window` messages in flight, their acks
//                     collected by the client's thread; drain() waits for all of them
//                     and returns the ones that failed, in publish order. The server
//                     stores what one connection sends in order, so a failure leaves
//                     the stored messages a prefix of those sent on that connection;
//                     the caller republishes the failed ones (same ids) and what
//                     followed them.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

// One extra header of a message (besides the id the Publisher sets).
struct PublishHeader {
  const char* name = nullptr;
  std::string value;
};

// A pipelined publish that got no ack: its id and why.
struct FailedPublish {
  std::string msg_id;
  Error error;
};

class Publisher {
 public:
  // `stream` is the stream the ack must come from (a subject taken by another
  // stream is an error, not a silent success there). `window`: how many
  // publish_async() messages may wait for their ack at once.
  Publisher(BusConnection& bus, std::string stream, int window = 1024);
  ~Publisher();  // drops what publish_async() left unacked (call drain() first to know)
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Publishes and waits for the ack (at most the connection's request timeout).
  // Errors name the subject, the id and the bus; transient ones may be retried
  // with the same id, which the server de-duplicates. `header`: an optional extra
  // header (name null: none).
  Result<PublishAck> publish(const std::string& subject, const std::string& msg_id, std::string_view payload,
                             const PublishHeader& header = {});

  // Hands the message to the client without waiting for its ack; waits only while
  // `window` messages are in flight. An error here means the client refused it at
  // once (not connected, too large): nothing was sent. Acks arriving later count
  // in counters(); failures are kept for drain().
  Status publish_async(const std::string& subject, const std::string& msg_id, std::string_view payload,
                       const PublishHeader& header = {});
  // Sends what the client still buffers, waits until every publish_async() message
  // is acked or failed, then returns the failures and forgets them. A message
  // without an ack within the request timeout (a connection lost with it) is taken
  // back from the client and returned as a failure too. Call it from one thread.
  Result<std::vector<FailedPublish>> drain();
  // Messages published with publish_async() and not acked or failed yet.
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  PublishCounters counters() const;
  const std::string& stream() const { return stream_; }
  BusConnection& bus() { return bus_; }

 private:
  static void on_async_ack(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
  Status ensure_async_context();

  BusConnection& bus_;
  const std::string stream_;
  const int window_;
  std::mutex async_mutex_;           // the async context's creation and `failures_`
  jsCtx* async_js_ = nullptr;        // its own context: the async ack handler is per context
  std::vector<FailedPublish> failures_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int> in_callback_{0};  // ack handlers running now (the destructor waits for them)
  std::atomic<uint64_t> published_{0}, acked_{0}, duplicates_{0}, failed_{0};
};

}  // namespace af::nats
