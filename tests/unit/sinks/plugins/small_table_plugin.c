/* A plugin whose table is shorter than version 1 requires. */
#include "alpha_forge/sink_plugin.h"

static const af_sink_plugin kPlugin = {AF_SINK_ABI_VERSION, 16u, "small", "", 0, 0, 0, 0, 0, 0, 0};

AF_SINK_PLUGIN_EXPORT const af_sink_plugin* af_sink_plugin_entry(void) { return &kPlugin; }
