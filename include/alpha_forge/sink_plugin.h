/* alpha_forge sink plugin ABI, version 2 (version 1 tables still load).
 *
 * A sink plugin is a shared library that exports one C function,
 *
 *     const af_sink_plugin* af_sink_plugin_entry(void);
 *
 * returning a pointer to a static, constant table. The engine loads the library
 * with dlopen (a pipeline's `using.plugins`), checks the table (abi_version,
 * struct_size, name, function pointers) and registers the sink as
 * `sinks.<name>`, with the parameters the table declares. Only C types cross the
 * boundary, so a plugin may be written in C, C++ (catch every exception before
 * returning) or Rust (`extern "C"`, `#[repr(C)]`).
 *
 * Calls and threads. create, emit, flush and destroy of one handle are all made
 * from one engine thread (that sink's worker), in this order: create, then emit /
 * flush any number of times, then destroy. Different handles (the same plugin used
 * by two sinks) may be driven from different threads at once: keep no unguarded
 * global state.
 *
 * Errors. Functions that can fail return an af_status and write a one-line,
 * NUL-terminated message into `err` (capacity `err_len`, always >= 1). AF_TRANSIENT
 * means "retry the same call later" (a timeout, a 503): the engine retries with
 * backoff and spools records while the sink is down. AF_FATAL stops this sink for
 * the rest of the run (its records are kept in its spool when one is configured);
 * other sinks carry on.
 *
 * Delivery. emit receives records in order (per symbol, in ts order). After a
 * restart, records replayed from the spool may include a batch already emitted
 * (the engine crashed between delivery and bookkeeping): a plugin that must not
 * store a record twice should keep its own idempotency key, e.g. (dag_name,
 * symbol, ts).
 *
 * Versioning. A new version only appends fields at the end of af_sink_plugin and
 * raises AF_SINK_ABI_VERSION; struct_size lets the engine tell which fields exist.
 * Version 2 appended last_ts. The engine loads tables of version 1 (struct_size
 * up to and including destroy) and of version 2.
 */
#ifndef ALPHA_FORGE_SINK_PLUGIN_H
#define ALPHA_FORGE_SINK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AF_SINK_ABI_VERSION 2u
#define AF_SINK_ENTRY_SYMBOL "af_sink_plugin_entry"

#if defined(__GNUC__)
#define AF_SINK_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define AF_SINK_PLUGIN_EXPORT
#endif

/* Status codes returned by the plugin. */
typedef int32_t af_status;
#define AF_OK ((af_status)0)
#define AF_TRANSIENT ((af_status)1)
#define AF_FATAL ((af_status)2)

/* One prediction. The pointers are valid only during the emit call: copy what
 * you keep. Times are milliseconds since the Unix epoch, UTC; ts is the bar's
 * open time. */
typedef struct af_record {
  int64_t ts;
  const char* symbol;
  double prediction;
  const char* dag_name;
  const char* frame;
  const char* column;
  int64_t emitted_at; /* wall clock when emitted */
  const char* origin; /* where the triggering bar came from: "archive", "rest", "stream", "derived" */
} af_record;

/* Parameter types a plugin may declare. */
typedef int32_t af_param_type;
#define AF_PARAM_STRING ((af_param_type)0)
#define AF_PARAM_INT ((af_param_type)1)
#define AF_PARAM_NUMBER ((af_param_type)2)
#define AF_PARAM_BOOL ((af_param_type)3)
#define AF_PARAM_STRING_LIST ((af_param_type)4)
#define AF_PARAM_NUMBER_LIST ((af_param_type)5)

/* One parameter of the sink, as written under `params:` in the pipeline. The
 * engine validates the YAML against these before the sink is created. */
typedef struct af_param_spec {
  const char* name;
  af_param_type type;
  int32_t required;          /* 1: must be given */
  const char* default_json;  /* default as JSON text ("\"out.jsonl\"", "100", "[1,2]"), or NULL */
  const char* doc;           /* one line */
} af_param_spec;

typedef struct af_sink_plugin {
  uint32_t abi_version; /* AF_SINK_ABI_VERSION the plugin was built against */
  uint32_t struct_size; /* sizeof(af_sink_plugin) as the plugin was built */
  const char* name;     /* [a-z0-9_]+; the sink is registered as "sinks.<name>" */
  const char* summary;  /* one line, shown by `alpha_forge plugins` */
  const char* doc;      /* longer text, may be NULL */
  const af_param_spec* params;
  size_t param_count;

  /* Creates a sink instance from its parameters, given as one JSON object with
   * every declared parameter that has a value (defaults filled in), e.g.
   * {"path":"out/p.jsonl","every":10}. Returns NULL on failure, with a message in
   * err (the engine reports it at start-up, naming the sink). */
  void* (*create)(const char* config_json, char* err, size_t err_len);
  /* Delivers n >= 1 records, in order. */
  af_status (*emit)(void* handle, const af_record* records, size_t n, char* err, size_t err_len);
  /* Makes what emit accepted durable or visible (called when the sink's queue runs
   * empty, and before destroy). May be NULL. */
  af_status (*flush)(void* handle, char* err, size_t err_len);
  /* Releases the instance. */
  void (*destroy)(void* handle);

  /* Version 2. What the destination holds: the newest ts of a record of
   * (dag_name, symbol) that it held durably when create returned. Set *found to
   * 1 and *ts, or *found to 0 when it holds none or cannot tell. Asked right
   * after create, on the same thread, once per symbol of the pipeline's universe;
   * a live restart without a usable snapshot predicts again from just after the
   * oldest answer, instead of leaving a hole where predictions were lost. May be
   * NULL ("cannot tell"). A status other than AF_OK fails the sink's start, as a
   * failed create does: the engine destroys the handle and reports the message
   * at start-up (a sink that cannot say what it holds cannot be resumed safely). */
  af_status (*last_ts)(void* handle, const char* dag_name, const char* symbol, int32_t* found, int64_t* ts,
                       char* err, size_t err_len);
} af_sink_plugin;

typedef const af_sink_plugin* (*af_sink_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ALPHA_FORGE_SINK_PLUGIN_H */
