/* A plugin that accepts its first `accept` records and then fails with AF_FATAL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alpha_forge/sink_plugin.h"

typedef struct state {
  long accepted;
  long accept;
} state;

static void* create(const char* config_json, char* err, size_t err_len) {
  const char* p = strstr(config_json, "\"accept\":");
  state* s;
  if (!p) {
    snprintf(err, err_len, "no accept in %s", config_json);
    return NULL;
  }
  s = calloc(1, sizeof *s);
  if (s) s->accept = strtol(p + 9, NULL, 10);
  return s;
}

static af_status emit(void* h, const af_record* r, size_t n, char* err, size_t err_len) {
  state* s = h;
  (void)r;
  if (s->accepted + (long)n > s->accept) {
    snprintf(err, err_len, "disk quota exceeded after %ld records", s->accepted);
    return AF_FATAL;
  }
  s->accepted += (long)n;
  return AF_OK;
}

static void destroy(void* h) { free(h); }

static const af_param_spec kParams[] = {
    {"accept", AF_PARAM_INT, 0, "3", "records accepted before the fatal error"},
};

static const af_sink_plugin kPlugin = {
    AF_SINK_ABI_VERSION, sizeof(af_sink_plugin), "fatal_test", "fails", NULL, kParams, 1, create, emit, NULL, destroy};

AF_SINK_PLUGIN_EXPORT const af_sink_plugin* af_sink_plugin_entry(void) { return &kPlugin; }
