/* A plugin built against ABI version 1: its table ends at destroy. What follows
 * in memory is not a last_ts (here a pointer that would crash if called), so the
 * engine must not read it. */
#include <stdint.h>
#include <stdlib.h>

#include "alpha_forge/sink_plugin.h"

typedef struct v1_table {
  uint32_t abi_version;
  uint32_t struct_size;
  const char* name;
  const char* summary;
  const char* doc;
  const af_param_spec* params;
  size_t param_count;
  void* (*create)(const char*, char*, size_t);
  af_status (*emit)(void*, const af_record*, size_t, char*, size_t);
  af_status (*flush)(void*, char*, size_t);
  void (*destroy)(void*);
  const void* next_in_memory;
} v1_table;

static void* create(const char* c, char* e, size_t n) {
  (void)c; (void)e; (void)n;
  return malloc(1);
}
static af_status emit(void* h, const af_record* r, size_t n, char* e, size_t l) {
  (void)h; (void)r; (void)n; (void)e; (void)l;
  return AF_OK;
}
static void destroy(void* h) { free(h); }

static const v1_table kTable = {1u, (uint32_t)offsetof(v1_table, next_in_memory), "v1_test", "version 1", NULL, NULL,
                                0, create, emit, NULL, destroy, (const void*)16};

AF_SINK_PLUGIN_EXPORT const af_sink_plugin* af_sink_plugin_entry(void) { return (const af_sink_plugin*)&kTable; }
