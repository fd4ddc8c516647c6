#include "registry/descriptor.hpp"

namespace af::registry {

const char* plugin_kind_name(PluginKind k) {
  switch (k) {
    case PluginKind::kData: return "data";
    case PluginKind::kTransform: return "transform";
    case PluginKind::kFeature: return "features";
    case PluginKind::kModel: return "model";
    case PluginKind::kSink: return "sink";
  }
  return "?";
}

}  // namespace af::registry
