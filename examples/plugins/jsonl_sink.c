/* jsonl_sink: an example alpha_forge sink plugin, in plain C.
 *
 * Appends every prediction as one JSON object per line to the file named by its
 * `path` param (the directory must exist). Use it from a pipeline as
 *
 *   using:
 *     plugins: [./build/release/examples/plugins/jsonl_sink.so]   # relative to the pipeline's folder
 *   signal_generation:
 *     on_prediction:
 *       - using: sinks.jsonl
 *         params: {path: outputs/predictions.jsonl}
 *
 * It shows the whole ABI: the entry table, declared params, the JSON config
 * (read with alpha_forge/sink_plugin_json.h), status codes with messages. It
 * does not deduplicate: a real sink that must not store a record twice keeps an
 * idempotency key (dag_name, symbol, ts).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alpha_forge/sink_plugin.h"
#include "alpha_forge/sink_plugin_json.h"

typedef struct jsonl_sink {
  FILE* file;
  char* path;
} jsonl_sink;

static void set_err(char* err, size_t err_len, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

/* --- output --- */

static void write_json_string(FILE* f, const char* s) {
  fputc('"', f);
  for (; s && *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
    } else if (c < 0x20) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

static void* jsonl_create(const char* config_json, char* err, size_t err_len) {
  jsonl_sink* s;
  char* path = af_json_string(config_json, "path");
  if (!path || !*path) {
    free(path);
    set_err(err, err_len, "param 'path' is missing or not a string in %s", config_json);
    return NULL;
  }
  s = calloc(1, sizeof *s);
  if (!s) {
    free(path);
    set_err(err, err_len, "out of memory");
    return NULL;
  }
  s->path = path;
  s->file = fopen(path, "a");
  if (!s->file) {
    set_err(err, err_len, "cannot open '%s' for appending: %s", path, strerror(errno));
    free(s->path);
    free(s);
    return NULL;
  }
  return s;
}

static af_status jsonl_emit(void* handle, const af_record* records, size_t n, char* err, size_t err_len) {
  jsonl_sink* s = handle;
  for (size_t i = 0; i < n; ++i) {
    const af_record* r = &records[i];
    fprintf(s->file, "{\"ts\":%lld,\"symbol\":", (long long)r->ts);
    write_json_string(s->file, r->symbol);
    if (isfinite(r->prediction)) fprintf(s->file, ",\"prediction\":%.17g", r->prediction);
    else fputs(",\"prediction\":null", s->file);
    fputs(",\"dag_name\":", s->file);
    write_json_string(s->file, r->dag_name);
    fputs(",\"frame\":", s->file);
    write_json_string(s->file, r->frame);
    fputs(",\"column\":", s->file);
    write_json_string(s->file, r->column);
    fprintf(s->file, ",\"emitted_at\":%lld,\"origin\":", (long long)r->emitted_at);
    write_json_string(s->file, r->origin);
    fputs("}\n", s->file);
  }
  if (ferror(s->file)) {
    set_err(err, err_len, "write to '%s' failed: %s", s->path, strerror(errno));
    clearerr(s->file);
    return AF_TRANSIENT;
  }
  return AF_OK;
}

static af_status jsonl_flush(void* handle, char* err, size_t err_len) {
  jsonl_sink* s = handle;
  if (fflush(s->file) != 0) {
    set_err(err, err_len, "flush of '%s' failed: %s", s->path, strerror(errno));
    return AF_TRANSIENT;
  }
  return AF_OK;
}

static void jsonl_destroy(void* handle) {
  jsonl_sink* s = handle;
  fclose(s->file);
  free(s->path);
  free(s);
}

static const af_param_spec kParams[] = {
    {"path", AF_PARAM_STRING, 1, NULL, "the JSON-lines file to append to (its directory must exist)"},
};

static const af_sink_plugin kPlugin = {
    AF_SINK_ABI_VERSION,
    sizeof(af_sink_plugin),
    "jsonl",
    "Append predictions as JSON lines (example plugin)",
    "One object per line: ts, symbol, prediction, dag_name, frame, column, emitted_at, origin.",
    kParams,
    sizeof kParams / sizeof kParams[0],
    jsonl_create,
    jsonl_emit,
    jsonl_flush,
    jsonl_destroy,
};

AF_SINK_PLUGIN_EXPORT const af_sink_plugin* af_sink_plugin_entry(void) { return &kPlugin; }
