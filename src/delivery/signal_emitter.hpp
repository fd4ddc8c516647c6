#pragma once
// SignalEmitter: fans every prediction record out to every sink of a pipeline.
// Owned by the engine (or the replay driver). Each sink gets its own SinkWorker
// (bounded queue, thread, retry, spool), so that a slow or dead sink never blocks
// the caller nor another sink. emit() is called from one thread, the engine's
// event loop; add/open_all/close from the thread that owns the emitter.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "runtime/record.hpp"
#include "runtime/sink.hpp"
#include "delivery/sink_worker.hpp"

namespace af {

class SignalEmitter {
 public:
  explicit SignalEmitter(SinkWorkerOptions defaults = {});
  ~SignalEmitter();  // closes if still open
  SignalEmitter(const SignalEmitter&) = delete;
  SignalEmitter& operator=(const SignalEmitter&) = delete;

  // Spool files go to `dir`/<sink name>.spool (created on open) for every sink
  // whose options name no spool file. Without a spool, records a sink cannot take
  // are lost and counted. Before open_all().
  void set_spool_dir(std::string dir);

  // Adds a sink under `name` ("sinks.csv_append[0]"), with the default options
  // or its own. Before open_all().
  void add(std::string name, std::unique_ptr<Sink> sink, std::optional<SinkWorkerOptions> options = std::nullopt);

  // Opens every sink (in parallel, each on its worker thread). Every sink is
  // attempted; the Error lists every failure, "; "-separated, each naming its sink.
  Status open_all();
  // open_all() in two halves, so the caller can do other work while the sinks
  // open (replay reads its data meanwhile): start_all() starts every worker,
  // which opens its sink; wait_open_all() waits for them and returns what
  // open_all() would (the same Status on later calls). emit() only after it.
  void start_all();
  Status wait_open_all();

  // Hands the record to every sink's queue. Never blocks on a sink.
  void emit(const PredictionRecord& record);

  // Drains every queue, flushes and closes every sink; the Error lists every
  // sink that failed (fatal errors, lost records, close errors). Idempotent.
  Status close();

  // Every record emitted so far is delivered, spooled or counted lost (see
  // SinkWorker::settled): a snapshot taken now loses nothing to a kill -9.
  bool settled() const;

  // After open_all(): for (dag_name, symbol), the oldest of the newest ts each
  // sink durably held at open (Sink::last_ts); sinks that cannot tell are left
  // out; nullopt when none can. Predicting again from after it leaves no sink
  // with a hole (the others skip what they hold).
  std::optional<int64_t> last_ts_held(const std::string& dag_name, const std::string& symbol) const;

  size_t size() const { return workers_.size(); }
  std::vector<SinkStats> stats() const;
  // Fatal errors of sinks stopped so far (ok while every sink is healthy).
  Status status() const;

  // The spool file a sink of this name uses under `dir`.
  static std::string spool_path(const std::string& dir, const std::string& sink_name);

 private:
  SinkWorkerOptions defaults_;
  std::string spool_dir_;
  std::vector<std::unique_ptr<SinkWorker>> workers_;
  bool opened_ = false;
  std::optional<Status> open_status_;  // once wait_open_all() has run
  bool closed_ = false;
  Status close_status_;
};

}  // namespace af
