/* A plugin built against a future ABI: the engine must refuse it. */
#include "alpha_forge/sink_plugin.h"

static void* create(const char* c, char* e, size_t n) { (void)c; (void)e; (void)n; return 0; }
static af_status emit(void* h, const af_record* r, size_t n, char* e, size_t l) {
  (void)h; (void)r; (void)n; (void)e; (void)l;
  return AF_OK;
}
static void destroy(void* h) { (void)h; }

static const af_sink_plugin kPlugin = {99u, sizeof(af_sink_plugin), "future", "", 0, 0, 0, create, emit, 0, destroy};

AF_SINK_PLUGIN_EXPORT const af_sink_plugin* af_sink_plugin_entry(void) { return &kPlugin; }
