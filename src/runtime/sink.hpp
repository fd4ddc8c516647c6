#pragma once
// Sink: a destination for prediction records (CSV file, ClickHouse, DynamoDB, a
// plugin). Each sink is driven by its own worker thread (SinkWorker); all calls
// on one Sink come from that thread, in order: open, then write/flush any number
// of times, then close.

#include <memory>
#include <span>
#include <string>

#include "common/result.hpp"
#include "registry/param.hpp"
#include "registry/registry.hpp"
#include "runtime/record.hpp"

namespace af {

class Sink {
 public:
  virtual ~Sink() = default;
  // Prepares the destination (creates directories, tables). An Error with
  // transient=false is a configuration problem reported at start-up.
  virtual Status open() = 0;
  // Delivers a batch, in order. Records this sink already holds (its dedup key)
  // are skipped, not doubled. A transient Error is retried with the same batch.
  virtual Status write(std::span<const PredictionRecord> batch) = 0;
  virtual Status flush() = 0;
  virtual Status close() = 0;
};

struct SinkContext {
  const registry::Params& params;
  std::string name;      // for messages: "sinks.csv_append[0]"
  std::string dag_name;
};

using SinkRegistry = registry::Registry<Sink, SinkContext>;

}  // namespace af
