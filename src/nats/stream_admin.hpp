#pragma once
// Stream administration: make sure the JetStream stream we publish to exists and
// takes our subjects. Called once at start by whoever publishes (ingest,
// sinks.nats); the consuming side only reads the stream's description.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "nats/bus_connection.hpp"

namespace af::nats {

struct StreamSpec {
  std::string name;                   // "AF_BARS"
  std::vector<std::string> subjects;  // the subjects of a stream we create: "af.bars.>"
  // What an existing stream must take (empty: `subjects`): a sink publishing only
  // under "af.predictions.my_dag.*" accepts a stream that takes just those.
  std::vector<std::string> required_subjects;
  int64_t max_age_ms = 0;             // retention (limits policy); 0 = no age limit
  int replicas = 1;
  int64_t duplicate_window_ms = 2 * 60 * 1000;  // the server's default
};

// What the server holds, created now or found.
struct StreamDescription {
  bool created = false;
  std::vector<std::string> subjects;
  int64_t max_age_ms = 0;
  int64_t duplicate_window_ms = 0;
  int replicas = 1;
  uint64_t messages = 0;
};

// Creates the stream when it is absent and `create` is set (file storage, limits
// retention, the spec's age, replicas and duplicate window). When it exists, every
// required subject must be covered by the stream's own subjects; otherwise the
// error names the stream and what it takes:
//   "NATS stream AF_BARS on nats://127.0.0.1:4222 takes subjects [other.>], not af.bars.>"
// An existing stream's retention and window are reported, not changed: the caller
// decides whether they are enough.
Result<StreamDescription> ensure_stream(BusConnection& bus, const StreamSpec& spec, bool create);

// The stream's description, or a fatal error when it does not exist.
Result<StreamDescription> describe_stream(BusConnection& bus, const std::string& name);

}  // namespace af::nats
