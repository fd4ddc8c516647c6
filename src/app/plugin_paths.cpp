#include "app/plugin_paths.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

namespace af::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEnv = "ALPHA_FORGE_SINK_PLUGINS";

// Reports a problem with one listed path, or returns it resolved.
bool check(const std::string& written, const fs::path& base, const std::string& file, const std::string& where,
           SourceMark mark, Diagnostics& diags, std::vector<PluginPath>& out) {
  if (written.find('/') == std::string::npos) {
    diags.error(file, mark, where,
                "plugin path '" + written + "' must contain a '/' (a bare name would be searched on the loader's "
                "library path); write './" + written + "' for a file in " +
                (base.empty() ? std::string("the working directory") : "the pipeline's folder"));
    return false;
  }
  const fs::path resolved = fs::path(written).is_absolute() || base.empty() ? fs::path(written) : base / written;
  std::error_code ec;
  if (!fs::is_regular_file(resolved, ec)) {
    diags.error(file, mark, where,
                "no plugin file " + resolved.string() +
                    (fs::path(written).is_absolute() ? std::string()
                     : base.empty()                  ? " (relative to the working directory)"
                                                     : " (relative paths are relative to the pipeline's folder)"));
    return false;
  }
  out.push_back(PluginPath{resolved.string(), where, mark});
  return true;
}

}  // namespace

std::vector<PluginPath> sink_plugin_paths(const std::string& pipeline_file, Diagnostics& diags) {
  std::vector<PluginPath> out;
  if (const char* env = std::getenv(kEnv)) {
    const std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t end = std::min(list.find(':', start), list.size());
      if (end > start) check(list.substr(start, end - start), fs::path(), kEnv, kEnv, {}, diags, out);
      start = end + 1;
    }
  }
  YAML::Node listed;
  try {
    const YAML::Node root = YAML::LoadFile(pipeline_file);
    if (root.IsMap() && root["using"] && root["using"].IsMap()) listed = root["using"]["plugins"];
  } catch (const std::exception&) {
    // An unreadable or malformed file is reported, with its position, by the DSL.
    return out;
  }
  if (!listed || !listed.IsSequence()) return out;
  const fs::path base = fs::path(pipeline_file).parent_path().empty() ? fs::path(".")
                                                                        : fs::path(pipeline_file).parent_path();
  for (size_t i = 0; i < listed.size(); ++i) {
    const YAML::Node& p = listed[i];
    const SourceMark mark{p.Mark().line + 1, p.Mark().column + 1};
    if (p.IsScalar()) check(p.as<std::string>(), base, pipeline_file, "using.plugins[" + std::to_string(i) + "]",
                            mark, diags, out);
  }
  return out;
}

}  // namespace af::app
