#include "python/register_python_sink.hpp"

#include "python/class_spec.hpp"
#include "python/interpreter.hpp"
#include "python/python_sink.hpp"

namespace af::python {

registry::Descriptor python_sink_descriptor() {
  using registry::ParamSpec;
  using registry::ParamType;
  registry::Descriptor d;
  d.name = "sinks.python";
  d.kind = registry::PluginKind::kSink;
  d.input = registry::InputKind::kNone;
  d.output = registry::OutputKind::kNone;
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = "1 (a sink needs no history)";
  d.summary = "a Python class hosted in the engine (embedded CPython 3.11)";
  d.doc =
      "The class implements the Python original's sink interface: `emit(symbol, ts, prediction, metadata)` and "
      "`close()`, optionally `emit_batch(records)` (a list of `(symbol, ts, prediction, metadata)` tuples) and "
      "`flush()`. `ts` is the bar's open time as a timezone-aware `datetime` in UTC; `metadata` holds `frame`, "
      "`column`, `dag_name`, `emitted_at` (a UTC `datetime`) and `origin`. It runs on its own delivery worker "
      "(batching, retry with backoff, spool): an exception is retried unless marked permanent "
      "(`alpha_forge.PermanentError`, or a true `permanent` attribute), which stops the sink. Delivery is at least "
      "once, like every sink's: make `emit` idempotent on (dag_name, symbol, ts). See docs/sinks.md.";
  d.params = {
      ParamSpec{.name = "class",
                .type = ParamType::kString,
                .required = true,
                .doc = "`package.module:Class` (imported from PYTHONPATH and the pipeline file's folder) or "
                       "`path/to/file.py:Class` (relative to the pipeline file's folder)"},
      ParamSpec{.name = "params",
                .type = ParamType::kMapping,
                .default_value = std::string("{}"),
                .doc = "keyword arguments of the class's constructor (shown redacted: it may hold a token or a "
                       "password)",
                .secret = true},
      ParamSpec{.name = "batch_size",
                .type = ParamType::kInt,
                .default_value = int64_t{100},
                .min = 1,
                .max = 100'000,
                .doc = "records per emit_batch call, at most (a call also holds no more than the worker has queued, "
                       "at most 512); unused when the class has no emit_batch"},
  };
  d.check = [](const registry::Params& p) {
    std::vector<std::string> problems;
    // The grammar only: the file's existence depends on the pipeline's folder
    // and is checked where that is known (the app's load, docs/sinks.md).
    if (auto spec = parse_class_spec(p.get_string("class"), ""); !spec) problems.push_back(spec.error().message);
    return problems;
  };
  return d;
}

void register_python_sink(SinkRegistry& registry) {
  registry.add(python_sink_descriptor(), [](const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    PythonSinkOptions o;
    o.name = ctx.name;
    o.where = ctx.where;
    o.dag_name = ctx.dag_name;
    o.symbols = ctx.symbols;
    o.class_text = ctx.params.get_string("class");
    auto spec = parse_class_spec(o.class_text, ctx.pipeline_file);
    if (!spec) return make_error(ctx.name + ": " + spec.error().message);
    o.spec = std::move(spec.value());
    o.params_json = ctx.params.has("params") ? ctx.params.get_string("params") : "{}";
    o.batch_size = static_cast<size_t>(ctx.params.has("batch_size") ? ctx.params.get_int("batch_size") : 100);
    // Started here, on the engine's thread, so that the interpreter belongs to
    // the thread that finalises it at shutdown.
    if (auto st = ensure_interpreter(); !st) return make_error(ctx.name + ": " + st.error().message);
    return std::unique_ptr<Sink>(std::make_unique<PythonSink>(std::move(o)));
  });
}

}  // namespace af::python
