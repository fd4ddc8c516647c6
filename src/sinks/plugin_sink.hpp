#pragma once
// Sink plugins: shared libraries written against include/alpha_forge/sink_plugin.h.
//
// load_sink_plugin() dlopens a library and validates its entry table;
// register_sink_plugin() adds it to a SinkRegistry as `sinks.<name>` with the
// params the plugin declares (validated like any built-in's, handed to the plugin
// as one JSON object). PluginSink wraps one plugin instance as an af::Sink: it is
// created by the registry factory and then driven by its SinkWorker thread only.
// Everything the plugin does is caught at the boundary: a status code, a message
// buffer, and a catch-all for C++ plugins that let an exception escape.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alpha_forge/sink_plugin.h"
#include "common/result.hpp"
#include "registry/descriptor.hpp"
#include "runtime/sink.hpp"

namespace af::sinks {

// A loaded, validated plugin library. The library stays loaded for the life of
// the process (a plugin may have started threads or registered atexit handlers,
// so unloading it is never safe).
struct SinkPlugin {
  std::string path;  // as given
  std::string name;  // as the plugin declares it ("jsonl"); registered as "sinks.<name>"
  const af_sink_plugin* table = nullptr;
  std::vector<registry::ParamSpec> params;  // converted from the table
  // The table's last_ts when its version has the field and sets it, else null.
  decltype(af_sink_plugin::last_ts) last_ts = nullptr;
};

Result<std::shared_ptr<const SinkPlugin>> load_sink_plugin(const std::string& path);

// The descriptor `sinks.<name>` of a loaded plugin.
registry::Descriptor plugin_descriptor(const SinkPlugin& plugin);

// Adds `sinks.<name>` to the registry; an Error if the name is taken.
Status register_sink_plugin(SinkRegistry& registry, std::shared_ptr<const SinkPlugin> plugin);

// load_sink_plugin + register_sink_plugin.
Status load_and_register_sink_plugin(SinkRegistry& registry, const std::string& path);

// The JSON object a plugin's create() receives for these params.
std::string params_to_json(const registry::Params& params);

class PluginSink : public Sink {
 public:
  // `dag_name` and `symbols` (the pipeline's universe): what open() asks the
  // plugin's last_ts about.
  PluginSink(std::shared_ptr<const SinkPlugin> plugin, std::string name, std::string config_json,
             std::string dag_name = "", std::vector<std::string> symbols = {});
  ~PluginSink() override;

  Status open() override;
  Status write(std::span<const PredictionRecord> batch) override;
  Status flush() override;
  Status close() override;
  // What the plugin's last_ts answered in open() (version 2 tables); nullopt
  // when it has none, said "not found", or for another dag_name.
  std::optional<int64_t> last_ts(const std::string& dag_name, const std::string& symbol) const override;

 private:
  Error error(const std::string& what, bool transient) const;
  Status from_status(const char* call, af_status status);
  Status ask_held();
  void destroy_handle();

  std::shared_ptr<const SinkPlugin> plugin_;
  const std::string name_;
  const std::string config_json_;
  const std::string dag_name_;
  const std::vector<std::string> symbols_;
  void* handle_ = nullptr;
  std::map<std::string, int64_t> held_;  // set in open(), read from any thread afterwards
  std::vector<af_record> records_;  // reused across writes
  char err_[1024];
};

}  // namespace af::sinks
