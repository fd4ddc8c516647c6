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
 * (read with alpha_forge/sink_plugin_json.h), status codes with messages, and
 * last_ts (version 2): what the file already holds, so that a live restart
 * without a snapshot predicts again from there. It does not deduplicate: a real
 * sink that must not store a record twice keeps an idempotency key (dag_name,
 * symbol, ts).
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alpha_forge/sink_plugin.h"
#include "alpha_forge/sink_plugin_json.h"

/* The newest ts of one (dag_name, symbol) in the file. */
typedef struct held_entry {
  char* dag_name;
  char* symbol;
  long long ts;
} held_entry;

typedef struct jsonl_sink {
  FILE* file;
  char* path;
  /* What the file held at create, read on the first last_ts call. A linear
   * table: fine for an example's hundreds of symbols. */
  int held_read;
  held_entry* held;
  size_t held_count, held_cap;
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

/* --- what the file holds (last_ts) --- */

/* Keeps ts as the newest of (dag_name, symbol); takes the two strings. */
static int held_note(jsonl_sink* s, char* dag_name, char* symbol, long long ts) {
  for (size_t i = 0; i < s->held_count; ++i) {
    held_entry* e = &s->held[i];
    if (strcmp(e->symbol, symbol) == 0 && strcmp(e->dag_name, dag_name) == 0) {
      if (ts > e->ts) e->ts = ts;
      free(dag_name);
      free(symbol);
      return 1;
    }
  }
  if (s->held_count == s->held_cap) {
    size_t cap = s->held_cap ? 2 * s->held_cap : 64;
    held_entry* grown = realloc(s->held, cap * sizeof *grown);
    if (!grown) {
      free(dag_name);
      free(symbol);
      return 0;
    }
    s->held = grown;
    s->held_cap = cap;
  }
  s->held[s->held_count].dag_name = dag_name;
  s->held[s->held_count].symbol = symbol;
  s->held[s->held_count].ts = ts;
  ++s->held_count;
  return 1;
}

/* Reads ts, symbol and dag_name from one line this plugin wrote. */
static int parse_line(const char* line, long long* ts, char** symbol, char** dag_name) {
  const char* p;
  char* end;
  if (strncmp(line, "{\"ts\":", 6) != 0) return 0;
  *ts = strtoll(line + 6, &end, 10);
  if (end == line + 6 || strncmp(end, ",\"symbol\":", 10) != 0) return 0;
  if (!af_json_parse_string_(end + 10, symbol)) return 0;
  /* A quote inside a string is escaped, so this finds the field, not text in one. */
  p = strstr(line, ",\"dag_name\":");
  if (!p || !af_json_parse_string_(p + 12, dag_name)) {
    free(*symbol);
    return 0;
  }
  return 1;
}

/* Scans the file once. A last line without its newline (a crash mid-write) is
 * not a record and is skipped; any other line that is not one of ours is an error. */
static af_status read_held(jsonl_sink* s, char* err, size_t err_len) {
  FILE* in = fopen(s->path, "r");
  char* line = NULL;
  size_t cap = 0;
  ssize_t len;
  long line_no = 0;
  af_status st = AF_OK;
  if (!in) {
    set_err(err, err_len, "cannot read '%s': %s", s->path, strerror(errno));
    return AF_TRANSIENT;
  }
  while ((len = getline(&line, &cap, in)) > 0) {
    long long ts;
    char *symbol, *dag_name;
    ++line_no;
    if (line[len - 1] != '\n') break; /* torn last line */
    if (!parse_line(line, &ts, &symbol, &dag_name)) {
      set_err(err, err_len, "%s:%ld: not a record this plugin wrote", s->path, line_no);
      st = AF_FATAL;
      break;
    }
    if (!held_note(s, dag_name, symbol, ts)) {
      set_err(err, err_len, "out of memory reading '%s'", s->path);
      st = AF_TRANSIENT;
      break;
    }
  }
  if (st == AF_OK && ferror(in)) {
    set_err(err, err_len, "read of '%s' failed: %s", s->path, strerror(errno));
    st = AF_TRANSIENT;
  }
  free(line);
  fclose(in);
  return st;
}

static af_status jsonl_last_ts(void* handle, const char* dag_name, const char* symbol, int32_t* found, int64_t* ts,
                               char* err, size_t err_len) {
  jsonl_sink* s = handle;
  *found = 0;
  if (!s->held_read) {
    af_status st = read_held(s, err, err_len);
    if (st != AF_OK) return st;
    s->held_read = 1;
  }
  for (size_t i = 0; i < s->held_count; ++i) {
    if (strcmp(s->held[i].symbol, symbol) == 0 && strcmp(s->held[i].dag_name, dag_name) == 0) {
      *found = 1;
      *ts = s->held[i].ts;
      break;
    }
  }
  return AF_OK;
}

static void jsonl_destroy(void* handle) {
  jsonl_sink* s = handle;
  fclose(s->file);
  for (size_t i = 0; i < s->held_count; ++i) {
    free(s->held[i].dag_name);
    free(s->held[i].symbol);
  }
  free(s->held);
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
    jsonl_last_ts,
};

AF_SINK_PLUGIN_EXPORT const af_sink_plugin* af_sink_plugin_entry(void) { return &kPlugin; }
