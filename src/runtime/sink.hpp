#pragma once
// Sink: a destination for prediction records (CSV file, ClickHouse, DynamoDB, a
// plugin). Each sink is driven by its own worker thread (SinkWorker); all calls
// on one Sink come from that thread, in order: open, then write/flush any number
// of times, then close.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

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
  // A successful flush means the records written so far are durably accepted
  // (in the file, in the database): the worker counts them as settled only then.
  virtual Status flush() = 0;
  virtual Status close() = 0;

  // Optional capability: the newest ts of a record of (dag_name, symbol) that the
  // destination held durably when open() returned; nullopt when it holds none or
  // cannot tell. A restart without a usable snapshot resumes predicting after it
  // instead of leaving a hole. Called after open(), from any thread: an
  // implementation answers from state it no longer changes.
  virtual std::optional<int64_t> last_ts(const std::string& dag_name, const std::string& symbol) const {
    (void)dag_name;
    (void)symbol;
    return std::nullopt;
  }
  // Records write() accepted but did not store again because the destination
  // already held their key (cumulative). The run's summary reports them: a re-run
  // over the same range writes nothing new, and the user must see that.
  virtual uint64_t skipped() const { return 0; }
};

struct SinkContext {
  const registry::Params& params;
  std::string name;      // for messages: "sinks.csv_append[0]"
  std::string dag_name;
  // The compiled plan's fingerprint (hex): a sink that keeps what it wrote across
  // runs records it, so that output of another plan is never silently kept.
  std::string plan_fingerprint;
  // `replay --fresh`: start the outputs anew (discard what earlier runs wrote).
  bool fresh = false;
  // The CA bundle of `--ca-file` for sinks that connect over TLS ("" =
  // $SSL_CERT_FILE, else the system CAs): the same trust as the market data.
  std::string ca_file;
  // The pipeline file ("" when the sink is built outside one, as in tests): a
  // sink that loads user code (sinks.python) resolves relative paths against
  // its folder, and names `where` in its start-up errors.
  std::string pipeline_file;
  std::string where;  // "pipeline.yaml:14:7" of the sink's entry, or of the param that failed
  // The pipeline's universe: the symbols last_ts() may be asked about. A sink
  // that must ask its destination (sinks.python) asks for these in open().
  std::vector<std::string> symbols;
};

using SinkRegistry = registry::Registry<Sink, SinkContext>;

}  // namespace af
