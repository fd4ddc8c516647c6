#include "sinks/plugin_sink.hpp"

#include <dlfcn.h>

#include <cstddef>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "sinks/sink_descriptor.hpp"

namespace af::sinks {
namespace {

bool valid_name(const char* s) {
  if (s == nullptr || *s == '\0') return false;
  for (; *s; ++s) {
    const char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<registry::ParamValue> parse_default(const af_param_spec& spec, registry::ParamType type) {
  using registry::ParamValue;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(spec.default_json);
  } catch (const std::exception& e) {
    return make_error(std::string("default is not JSON: ") + e.what());
  }
  switch (type) {
    case registry::ParamType::kString:
      if (j.is_string()) return ParamValue{j.get<std::string>()};
      break;
    case registry::ParamType::kInt:
      if (j.is_number_integer()) return ParamValue{j.get<int64_t>()};
      break;
    case registry::ParamType::kNumber:
      if (j.is_number()) return ParamValue{j.get<double>()};
      break;
    case registry::ParamType::kBool:
      if (j.is_boolean()) return ParamValue{j.get<bool>()};
      break;
    case registry::ParamType::kStringList:
      if (j.is_array()) {
        std::vector<std::string> v;
        for (const auto& e : j) {
          if (!e.is_string()) return make_error("default must be a list of strings");
          v.push_back(e.get<std::string>());
        }
        return ParamValue{std::move(v)};
      }
      break;
    case registry::ParamType::kNumberList:
      if (j.is_array()) {
        std::vector<double> v;
        for (const auto& e : j) {
          if (!e.is_number()) return make_error("default must be a list of numbers");
          v.push_back(e.get<double>());
        }
        return ParamValue{std::move(v)};
      }
      break;
    default: break;
  }
  return make_error(std::string("default ") + spec.default_json + " does not match the type " +
                    registry::param_type_name(type));
}

// The table's size in the header of ABI version `v`: each version appended fields.
size_t table_size(uint32_t v) {
  return v >= 2 ? sizeof(af_sink_plugin) : offsetof(af_sink_plugin, destroy) + sizeof(af_sink_plugin::destroy);
}

}  // namespace

Result<std::shared_ptr<const SinkPlugin>> load_sink_plugin(const std::string& path) {
  auto fail = [&](const std::string& what) { return make_error(path + ": " + what); };
  dlerror();
  void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    return fail(std::string("cannot load sink plugin: ") + (why ? why : "unknown dlopen error"));
  }
  // From here on the library stays loaded even when it is rejected: unloading
  // code whose static initialisers ran is not worth the risk.
  dlerror();
  void* sym = ::dlsym(lib, AF_SINK_ENTRY_SYMBOL);
  if (sym == nullptr) return fail("not a sink plugin: no symbol '" AF_SINK_ENTRY_SYMBOL "'");
  auto entry = reinterpret_cast<af_sink_plugin_entry_fn>(sym);
  const af_sink_plugin* t = nullptr;
  try {
    t = entry();
  } catch (...) {
    return fail(AF_SINK_ENTRY_SYMBOL "() threw an exception");
  }
  if (t == nullptr) return fail(AF_SINK_ENTRY_SYMBOL "() returned NULL");
  if (t->abi_version < 1 || t->abi_version > AF_SINK_ABI_VERSION)
    return fail("sink plugin ABI version " + std::to_string(t->abi_version) + ", this engine supports versions 1 to " +
                std::to_string(AF_SINK_ABI_VERSION));
  const size_t needed = table_size(t->abi_version);
  if (t->struct_size < needed)
    return fail("sink plugin table is " + std::to_string(t->struct_size) + " bytes, ABI version " +
                std::to_string(t->abi_version) + " needs at least " + std::to_string(needed));
  if (!valid_name(t->name))
    return fail(std::string("sink plugin name '") + (t->name ? t->name : "") + "' is not [a-z0-9_]+");
  if (t->create == nullptr || t->emit == nullptr || t->destroy == nullptr)
    return fail("sink plugin table lacks create, emit or destroy");
  if (t->param_count > 0 && t->params == nullptr) return fail("sink plugin declares params but gives no table");

  auto plugin = std::make_shared<SinkPlugin>();
  plugin->path = path;
  plugin->name = t->name;
  plugin->table = t;
  // Read only from a table that has the field (version 1 tables end at destroy).
  plugin->last_ts = t->abi_version >= 2 ? t->last_ts : nullptr;
  for (size_t i = 0; i < t->param_count; ++i) {
    const af_param_spec& ps = t->params[i];
    if (!valid_name(ps.name)) return fail("param " + std::to_string(i) + ": name is not [a-z0-9_]+");
    registry::ParamSpec spec;
    spec.name = ps.name;
    switch (ps.type) {
      case AF_PARAM_STRING: spec.type = registry::ParamType::kString; break;
      case AF_PARAM_INT: spec.type = registry::ParamType::kInt; break;
      case AF_PARAM_NUMBER: spec.type = registry::ParamType::kNumber; break;
      case AF_PARAM_BOOL: spec.type = registry::ParamType::kBool; break;
      case AF_PARAM_STRING_LIST: spec.type = registry::ParamType::kStringList; break;
      case AF_PARAM_NUMBER_LIST: spec.type = registry::ParamType::kNumberList; break;
      default: return fail("param '" + spec.name + "': unknown type " + std::to_string(ps.type));
    }
    spec.required = ps.required != 0;
    spec.doc = ps.doc ? ps.doc : "";
    if (ps.default_json != nullptr) {
      auto v = parse_default(ps, spec.type);
      if (!v) return fail("param '" + spec.name + "': " + v.error().message);
      spec.default_value = std::move(v.value());
    }
    plugin->params.push_back(std::move(spec));
  }
  logger("sinks")->info("plugin=sinks.{} loaded from {} (abi={}, params={})", plugin->name, path, t->abi_version,
                        plugin->params.size());
  return std::shared_ptr<const SinkPlugin>(std::move(plugin));
}

registry::Descriptor plugin_descriptor(const SinkPlugin& plugin) {
  registry::Descriptor d = sink_descriptor();
  d.name = "sinks." + plugin.name;
  d.summary = plugin.table->summary ? plugin.table->summary : "sink plugin";
  d.doc = plugin.table->doc ? plugin.table->doc : "";
  if (!d.doc.empty()) d.doc += "\n\n";
  d.doc += "Loaded from `" + plugin.path + "` (sink plugin ABI version " + std::to_string(plugin.table->abi_version) +
           "); params reach the plugin as one JSON object.";
  d.params = plugin.params;
  return d;
}

Status register_sink_plugin(SinkRegistry& registry, std::shared_ptr<const SinkPlugin> plugin) {
  registry::Descriptor d = plugin_descriptor(*plugin);
  if (registry.find(d.name) != nullptr)
    return make_error(plugin->path + ": sink '" + d.name + "' is already registered");
  registry.add(std::move(d), [plugin](const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    return std::unique_ptr<Sink>(
        std::make_unique<PluginSink>(plugin, ctx.name, params_to_json(ctx.params), ctx.dag_name, ctx.symbols));
  });
  return {};
}

Status load_and_register_sink_plugin(SinkRegistry& registry, const std::string& path) {
  auto plugin = load_sink_plugin(path);
  if (!plugin) return plugin.error();
  return register_sink_plugin(registry, std::move(plugin.value()));
}

std::string params_to_json(const registry::Params& params) {
  nlohmann::json j = nlohmann::json::object();
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(bool b) const { return b; }
    nlohmann::json operator()(int64_t i) const { return i; }
    nlohmann::json operator()(double d) const { return d; }
    nlohmann::json operator()(const std::string& s) const { return s; }
    nlohmann::json operator()(const std::vector<std::string>& l) const { return l; }
    nlohmann::json operator()(const std::vector<double>& l) const { return l; }
  };
  for (const auto& [name, value] : params.values()) {
    if (std::holds_alternative<std::monostate>(value)) continue;
    j[name] = std::visit(Visitor{}, value);
  }
  return j.dump();
}

PluginSink::PluginSink(std::shared_ptr<const SinkPlugin> plugin, std::string name, std::string config_json,
                       std::string dag_name, std::vector<std::string> symbols)
    : plugin_(std::move(plugin)),
      name_(std::move(name)),
      config_json_(std::move(config_json)),
      dag_name_(std::move(dag_name)),
      symbols_(std::move(symbols)) {
  err_[0] = '\0';
}

PluginSink::~PluginSink() { destroy_handle(); }

Error PluginSink::error(const std::string& what, bool transient) const {
  return make_error(name_ + " (" + plugin_->path + "): " + what, transient);
}

Status PluginSink::from_status(const char* call, af_status status) {
  err_[sizeof err_ - 1] = '\0';
  const std::string msg = err_[0] ? std::string(err_) : std::string("no message");
  switch (status) {
    case AF_OK: return {};
    case AF_TRANSIENT: return error(std::string(call) + ": " + msg, true);
    case AF_FATAL: return error(std::string(call) + ": " + msg, false);
    default: return error(std::string(call) + ": unknown status " + std::to_string(status) + ": " + msg, false);
  }
}

Status PluginSink::open() {
  destroy_handle();  // a retried open starts from a new instance
  held_.clear();
  err_[0] = '\0';
  try {
    handle_ = plugin_->table->create(config_json_.c_str(), err_, sizeof err_);
  } catch (...) {
    return error("create threw an exception", false);
  }
  err_[sizeof err_ - 1] = '\0';
  if (handle_ == nullptr) return error(std::string("create failed: ") + (err_[0] ? err_ : "no message"), false);
  if (Status st = ask_held(); !st) {
    destroy_handle();
    held_.clear();
    return st;
  }
  return {};
}

Status PluginSink::ask_held() {
  if (plugin_->last_ts == nullptr) return {};
  for (const std::string& symbol : symbols_) {
    const std::string call = "last_ts('" + dag_name_ + "', '" + symbol + "')";
    int32_t found = 0;
    int64_t ts = 0;
    err_[0] = '\0';
    af_status st;
    try {
      st = plugin_->last_ts(handle_, dag_name_.c_str(), symbol.c_str(), &found, &ts, err_, sizeof err_);
    } catch (...) {
      return error(call + " threw an exception", false);
    }
    if (Status s = from_status(call.c_str(), st); !s) return s;
    if (found != 0 && found != 1) return error(call + " set found to " + std::to_string(found) + ", not 0 or 1", false);
    if (found == 1) held_.emplace(symbol, ts);
  }
  return {};
}

std::optional<int64_t> PluginSink::last_ts(const std::string& dag_name, const std::string& symbol) const {
  if (dag_name != dag_name_) return std::nullopt;
  const auto it = held_.find(symbol);
  if (it == held_.end()) return std::nullopt;
  return it->second;
}

void PluginSink::destroy_handle() {
  if (handle_ == nullptr) return;
  void* h = handle_;
  handle_ = nullptr;
  try {
    plugin_->table->destroy(h);
  } catch (...) {
  }
}

Status PluginSink::write(std::span<const PredictionRecord> batch) {
  if (handle_ == nullptr) return error("emit before create", false);
  if (batch.empty()) return {};
  static const std::string kEmpty;
  records_.clear();
  for (const auto& r : batch) {
    records_.push_back(af_record{r.ts, (r.symbol ? *r.symbol : kEmpty).c_str(), r.prediction,
                                 (r.dag_name ? *r.dag_name : kEmpty).c_str(), (r.frame ? *r.frame : kEmpty).c_str(),
                                 (r.column ? *r.column : kEmpty).c_str(), r.emitted_at, bar_origin_name(r.origin)});
  }
  err_[0] = '\0';
  af_status st;
  try {
    st = plugin_->table->emit(handle_, records_.data(), records_.size(), err_, sizeof err_);
  } catch (...) {
    return error("emit threw an exception", false);
  }
  return from_status("emit", st);
}

Status PluginSink::flush() {
  if (handle_ == nullptr || plugin_->table->flush == nullptr) return {};
  err_[0] = '\0';
  af_status st;
  try {
    st = plugin_->table->flush(handle_, err_, sizeof err_);
  } catch (...) {
    return error("flush threw an exception", false);
  }
  return from_status("flush", st);
}

Status PluginSink::close() {
  if (handle_ == nullptr) return {};
  Status st = flush();
  void* h = handle_;
  handle_ = nullptr;
  try {
    plugin_->table->destroy(h);
  } catch (...) {
    if (st) st = error("destroy threw an exception", false);
  }
  return st;
}

}  // namespace af::sinks
