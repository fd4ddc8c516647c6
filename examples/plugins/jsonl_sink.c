/* jsonl_sink: an example alpha_forge sink plugin, in plain C.
 *
 * Appends every prediction as one JSON object per line to the file named by its
 * `path` param (the directory must exist). Use it from a pipeline as
 *
 *   using:
 *     plugins: [build/examples/plugins/jsonl_sink.so]
 *   signal_generation:
 *     on_prediction:
 *       - using: sinks.jsonl
 *         params: {path: outputs/predictions.jsonl}
 *
 * It shows the whole ABI: the entry table, declared params, the JSON config,
 * status codes with messages. It does not deduplicate: a real sink that must not
 * store a record twice keeps an idempotency key (dag_name, symbol, ts).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alpha_forge/sink_plugin.h"

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

/* --- a minimal reader for the flat JSON object the engine passes to create() --- */

static const char* skip_ws(const char* p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
  return p;
}

/* Parses a JSON string at p (which points at the opening quote). Returns the
 * position after the closing quote, or NULL. When out is not NULL, stores a
 * malloc'ed copy of the decoded string (\u escapes above 0x7f become '?'). */
static const char* parse_string(const char* p, char** out) {
  size_t cap = strlen(p) + 1, n = 0;
  char* s = NULL;
  if (*p != '"') return NULL;
  ++p;
  if (out) {
    s = malloc(cap);
    if (!s) return NULL;
  }
  while (*p && *p != '"') {
    char c = *p++;
    if (c == '\\') {
      char e = *p++;
      switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
          unsigned v = 0;
          for (int i = 0; i < 4; ++i) {
            char h = *p++;
            v <<= 4;
            if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
            else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
            else { free(s); return NULL; }
          }
          c = v < 0x80 ? (char)v : '?';
          break;
        }
        default: free(s); return NULL;
      }
    }
    if (s) s[n++] = c;
  }
  if (*p != '"') {
    free(s);
    return NULL;
  }
  if (out) {
    s[n] = '\0';
    *out = s;
  }
  return p + 1;
}

/* Skips any JSON value (string, number, literal, array, object); returns the
 * position just after it, or NULL. */
static const char* skip_value(const char* p) {
  int depth = 0;
  p = skip_ws(p);
  for (;;) {
    if (*p == '\0') return NULL;
    if (*p == '"') {
      p = parse_string(p, NULL);
      if (!p || depth == 0) return p;
      continue;
    }
    if (depth == 0 && (*p == ',' || *p == '}')) return p; /* end of a number or literal */
    if (*p == '[' || *p == '{') {
      ++depth;
    } else if (*p == ']' || *p == '}') {
      if (--depth == 0) return p + 1;
    }
    ++p;
  }
}

/* The string value of `key` in a flat JSON object, malloc'ed; NULL if absent or not a string. */
static char* json_string_field(const char* json, const char* key) {
  const char* p = skip_ws(json);
  if (*p++ != '{') return NULL;
  for (;;) {
    char* k = NULL;
    p = skip_ws(p);
    if (*p == '}') return NULL;
    p = parse_string(p, &k);
    if (!p) return NULL;
    p = skip_ws(p);
    if (*p++ != ':') {
      free(k);
      return NULL;
    }
    p = skip_ws(p);
    if (strcmp(k, key) == 0 && *p == '"') {
      char* v = NULL;
      free(k);
      return parse_string(p, &v) ? v : NULL;
    }
    free(k);
    p = skip_value(p);
    if (!p) return NULL;
    p = skip_ws(p);
    if (*p == ',') ++p;
    else return NULL;
  }
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
  char* path = json_string_field(config_json, "path");
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
