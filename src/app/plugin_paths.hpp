#pragma once
// Where the sink plugins of a run come from: ALPHA_FORGE_SINK_PLUGINS (paths
// separated by ':', relative to the working directory) and the pipeline's
// `using.plugins` (relative to the pipeline file's folder, so a pipeline and its
// plugin move together). A path must contain a '/': a bare file name would make
// dlopen search the loader's library path, never the folder the user meant.
// Stateless; the command's thread.

#include <string>
#include <vector>

#include "common/diagnostic.hpp"

namespace af::app {

struct PluginPath {
  std::string path;  // as dlopen gets it: resolved against the folder it is relative to
  std::string where; // "using.plugins[0]" or "ALPHA_FORGE_SINK_PLUGINS"
  SourceMark mark;   // in the pipeline file (0:0 for the environment)
};

// Every listed plugin; a path without '/' or naming no regular file is reported
// to `diags`, located, and left out. Never loads anything.
std::vector<PluginPath> sink_plugin_paths(const std::string& pipeline_file, Diagnostics& diags);

}  // namespace af::app
