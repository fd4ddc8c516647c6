#pragma once
// NatsSink (`sinks.nats`): publishes each prediction record to a JetStream
// stream (prediction_message.hpp), so that a strategy subscribes to predictions
// instead of polling a database. Built by the SinkRegistry factory; owned and
// driven by one SinkWorker thread (no internal locking).
//
// A record is written only once the server acked it (stored, replicated when the
// stream has replicas): write() publishes the batch in order and waits for each
// ack, so flush() has nothing left to do. A batch that fails part-way is retried
// whole by the worker; its records carry the same msg ids, so the server stores
// the ones it already has no second time (acked as duplicates, counted as
// skipped), as long as the retry comes inside the stream's duplicate window.
//
// A bus that is down at open() is not an error: the connection and the stream
// check are retried before the first write, and writes fail transiently until it
// answers, so the worker retries and spools. A bad URL, refused credentials, a
// stream that does not exist (without create_stream) or whose subjects do not
// take ours are fatal.

#include <cstdint>
#include <memory>
#include <string>

#include "nats/bus_connection.hpp"
#include "nats/bus_options.hpp"
#include "nats/publisher.hpp"
#include "registry/descriptor.hpp"
#include "runtime/sink.hpp"

namespace af::nats {

struct NatsSinkConfig {
  std::string url = "nats://127.0.0.1:4222";  // --bus syntax: a comma-separated list, credentials allowed
  std::string stream = "AF_PREDICTIONS";
  std::string subject_prefix = "af.predictions";
  bool create_stream = false;
  int replicas = 1;                             // of a stream this sink creates
  int64_t duplicate_window_ms = 24 * 3600'000;  // of a stream this sink creates
  int64_t timeout_ms = 5000;                    // connect, and wait for each ack
};

class NatsSink : public Sink {
 public:
  NatsSink(std::string name, std::string dag_name, NatsSinkConfig config, EnvLookup env = process_env());
  ~NatsSink() override;

  Status open() override;
  Status write(std::span<const PredictionRecord> batch) override;
  Status flush() override { return {}; }
  Status close() override;
  uint64_t skipped() const override { return skipped_; }

 private:
  Error error(const std::string& what, bool transient) const;
  Status connect();  // connects and checks (creates) the stream; sets publisher_

  const std::string name_;
  const std::string dag_name_;
  const NatsSinkConfig config_;
  const EnvLookup env_;
  BusOptions options_;
  std::unique_ptr<BusConnection> bus_;
  std::unique_ptr<Publisher> publisher_;  // set once the stream is checked
  std::string payload_;                   // reused
  uint64_t skipped_ = 0;
};

registry::Descriptor nats_sink_descriptor();
void register_nats_sink(SinkRegistry& registry);

}  // namespace af::nats
