/* A version 2 plugin whose last_ts answers from the symbol's name: symbols
 * starting with 'B' are held up to 1000 * strlen(symbol), others not at all;
 * FAILUSDT is a transient failure, BADUSDT sets found to 2. Only one handle may
 * be alive at a time, so that a test sees the engine destroy a handle whose
 * last_ts failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alpha_forge/sink_plugin.h"

static int live_handles;

static void* create(const char* config_json, char* err, size_t err_len) {
  static int token;
  (void)config_json;
  if (live_handles > 0) {
    snprintf(err, err_len, "%d handle(s) still alive", live_handles);
    return NULL;
  }
  ++live_handles;
  return &token;
}

static af_status emit(void* h, const af_record* r, size_t n, char* err, size_t err_len) {
  (void)h; (void)r; (void)n; (void)err; (void)err_len;
  return AF_OK;
}

static void destroy(void* h) {
  (void)h;
  --live_handles;
}

static af_status last_ts(void* h, const char* dag_name, const char* symbol, int32_t* found, int64_t* ts, char* err,
                         size_t err_len) {
  (void)h;
  (void)dag_name;
  if (strcmp(symbol, "FAILUSDT") == 0) {
    snprintf(err, err_len, "destination unreachable");
    return AF_TRANSIENT;
  }
  if (strcmp(symbol, "BADUSDT") == 0) {
    *found = 2;
    return AF_OK;
  }
  *found = symbol[0] == 'B';
  if (*found) *ts = 1000 * (int64_t)strlen(symbol);
  return AF_OK;
}

static const af_sink_plugin kPlugin = {
    AF_SINK_ABI_VERSION, sizeof(af_sink_plugin), "held_test", "answers last_ts", NULL, NULL, 0, create, emit, NULL,
    destroy, last_ts};

AF_SINK_PLUGIN_EXPORT const af_sink_plugin* af_sink_plugin_entry(void) { return &kPlugin; }
