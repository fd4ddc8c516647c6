#pragma once
// PythonSink: one instance of a user's Python class (sinks.python) as an
// af::Sink. Built by the registry factory on the engine's thread without
// touching Python; open() imports the class and constructs it, and every call
// after that comes from the sink's own SinkWorker thread, which takes the GIL
// only for the duration of the call. Python is never entered from the compute
// thread.
//
// The class's interface is the Python original's: emit(symbol, ts, prediction,
// metadata) and close(), optionally emit_batch(records), flush() and
// last_ts(dag_name, symbol) (what the destination holds, for a restart without a
// snapshot; asked once per symbol in open(), never from the compute thread). A raised
// exception becomes this sink's Error with the exception's type, message and
// place; it is transient (retried by the worker) unless the exception is marked
// permanent (alpha_forge.PermanentError, or a true `permanent` attribute).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "python/class_spec.hpp"
#include "runtime/sink.hpp"

struct _object;

namespace af::python {

struct PythonSinkOptions {
  std::string name;         // "sinks.python[0]"
  std::string where;        // "pipeline.yaml:14:7" ("" when built outside a pipeline)
  std::string class_text;   // the `class` param as written
  ClassSpec spec;
  std::string params_json;  // the `params` mapping, as a JSON object
  size_t batch_size = 1;    // records per emit_batch call, at most
  std::string dag_name;     // the pipeline's name and universe: what open() asks last_ts about
  std::vector<std::string> symbols;
};

class PythonSink : public Sink {
 public:
  explicit PythonSink(PythonSinkOptions options);
  ~PythonSink() override;
  PythonSink(const PythonSink&) = delete;
  PythonSink& operator=(const PythonSink&) = delete;

  Status open() override;
  Status write(std::span<const PredictionRecord> batch) override;
  Status flush() override;
  Status close() override;
  // The class's optional last_ts(dag_name, symbol), asked once per symbol in open().
  std::optional<int64_t> last_ts(const std::string& dag_name, const std::string& symbol) const override;

 private:
  // The pending Python exception as this sink's Error ("emit raised
  // ConnectionError: refused (at sink.py:12)"); clears it. GIL held.
  Error raised(const char* call);
  Error error(const std::string& what, bool transient) const;
  // (symbol, ts, prediction, metadata) for a record; nullptr with an exception set.
  _object* record_tuple(const PredictionRecord& record);
  _object* interned(const std::string* s);
  Status write_locked(std::span<const PredictionRecord> batch);
  // Fills held_ from the class's last_ts, if it has one; false with a Python
  // exception set when it raised or answered something that is not a time. GIL held.
  bool ask_held();
  void release_locked();

  PythonSinkOptions options_;
  _object* helpers_ = nullptr;  // the alpha_forge module
  _object* instance_ = nullptr;
  _object* emit_ = nullptr;
  _object* emit_batch_ = nullptr;  // nullptr when the class has none
  _object* flush_ = nullptr;       // nullptr when the class has none
  _object* close_ = nullptr;       // nullptr when the class has none
  _object* keys_[5] = {};          // "frame", "column", "dag_name", "emitted_at", "origin"
  // The engine's strings (symbols, frame, column, dag name) live as long as it
  // does: each is converted to a Python str once.
  std::unordered_map<const std::string*, _object*> strings_;
  _object* origins_[4] = {};
  // What last_ts answered in open(), per symbol (read from any thread afterwards:
  // never changed after open).
  std::unordered_map<std::string, int64_t> held_;
  bool closed_ = false;
};

}  // namespace af::python
