#include "models/bilstm_checkpoint.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "models/safetensors.hpp"

namespace af::models {

namespace {

using nlohmann::json;

Result<int> get_positive_int(const json& obj, const char* key, const std::string& where) {
  if (!obj.contains(key)) return make_error(where + ": missing \"" + key + "\"");
  const auto& v = obj[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1'000'000)
    return make_error(where + ": \"" + key + "\" must be a positive integer, got " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

Result<std::vector<double>> get_numbers(const json& obj, const char* key, size_t n, const std::string& where) {
  if (!obj.contains(key)) return make_error(where + ": missing \"" + key + "\"");
  const auto& v = obj[key];
  if (!v.is_array() || v.size() != n)
    return make_error(where + ": \"" + key + "\" must be a list of " + std::to_string(n) + " numbers (one per input column)");
  std::vector<double> out;
  for (const auto& x : v) {
    if (!x.is_number()) return make_error(where + ": \"" + key + "\" has a non-number " + x.dump());
    out.push_back(x.get<double>());
  }
  return out;
}

// Takes a tensor out of `file`, checking its shape.
Result<std::vector<float>> take(SafetensorsFile& file, const std::string& name, const std::vector<int64_t>& shape,
                                const std::string& where) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end()) return make_error(where + ": missing tensor '" + name + "'");
  if (it->second.shape != shape)
    return make_error(where + ": tensor '" + name + "' has shape " + shape_to_string(it->second.shape) +
                      " but config.json implies " + shape_to_string(shape));
  std::vector<float> data = std::move(it->second.data);
  for (float x : data)
    if (!std::isfinite(x)) return make_error(where + ": tensor '" + name + "' has a non-finite value");
  file.tensors.erase(it);
  return data;
}

}  // namespace

Result<BilstmCheckpoint> load_bilstm_checkpoint(const std::string& dir, int max_steps, int max_group) {
  namespace fs = std::filesystem;
  const std::string config_path = (fs::path(dir) / "config.json").string();
  const std::string weights_path = (fs::path(dir) / "weights.safetensors").string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error("checkpoint_dir '" + dir + "' is not a directory");

  std::ifstream in(config_path);
  if (!in) return make_error(config_path + ": cannot open");
  json cfg;
  try {
    cfg = json::parse(in);
  } catch (const json::exception& e) {
    return make_error(config_path + ": not valid JSON: " + e.what());
  }
  if (!cfg.is_object()) return make_error(config_path + ": not a JSON object");

  BilstmCheckpoint ck;
  ck.dir = dir;
  if (!cfg.contains("version") || !cfg["version"].is_number_integer())
    return make_error(config_path + ": missing integer \"version\"");
  if (cfg["version"].get<int64_t>() != kBilstmFormatVersion)
    return make_error(config_path + ": version " + cfg["version"].dump() + " is not supported (this build reads " +
                      std::to_string(kBilstmFormatVersion) + ")");
  if (!cfg.contains("architecture") || !cfg["architecture"].is_object())
    return make_error(config_path + ": missing object \"architecture\"");
  const json& arch = cfg["architecture"];
  const std::string where_arch = config_path + ": architecture";
  if (arch.contains("type") && arch["type"] != "lstm")
    return make_error(where_arch + ": type " + arch["type"].dump() + " is not supported (only \"lstm\")");
  auto input_size = get_positive_int(arch, "input_size", where_arch);
  if (!input_size.ok()) return input_size.error();
  auto hidden = get_positive_int(arch, "hidden_size", where_arch);
  if (!hidden.ok()) return hidden.error();
  auto layers = get_positive_int(arch, "num_layers", where_arch);
  if (!layers.ok()) return layers.error();
  if (*layers > 16) return make_error(where_arch + ": num_layers " + std::to_string(*layers) + " is more than 16");
  if (!arch.contains("bidirectional") || !arch["bidirectional"].is_boolean())
    return make_error(where_arch + ": missing boolean \"bidirectional\"");
  const bool has_bias = !arch.contains("bias") || arch["bias"] == true;
  ck.shape = LstmShape{*input_size, *hidden, *layers, arch["bidirectional"].get<bool>()};
  int out_features = 1;
  if (arch.contains("head")) {
    const json& head = arch["head"];
    if (!head.is_object() || (head.contains("type") && head["type"] != "linear"))
      return make_error(where_arch + ": head must be {\"type\": \"linear\", ...}");
    if (head.contains("out_features")) {
      auto of = get_positive_int(head, "out_features", where_arch + ".head");
      if (!of.ok()) return of.error();
      out_features = *of;
    }
  }
  if (out_features != 1)
    return make_error(where_arch + ".head: out_features " + std::to_string(out_features) +
                      ": the predictor emits one column, so the head must have one output");

  if (!cfg.contains("input_columns") || !cfg["input_columns"].is_array())
    return make_error(config_path + ": missing list \"input_columns\"");
  std::set<std::string> seen;
  for (const auto& c : cfg["input_columns"]) {
    if (!c.is_string()) return make_error(config_path + ": input_columns has a non-string " + c.dump());
    if (!seen.insert(c.get<std::string>()).second)
      return make_error(config_path + ": input column '" + c.get<std::string>() + "' is listed twice");
    ck.input_columns.push_back(c.get<std::string>());
  }
  if (static_cast<int>(ck.input_columns.size()) != ck.shape.input_size)
    return make_error(config_path + ": " + std::to_string(ck.input_columns.size()) +
                      " input_columns but architecture.input_size is " + std::to_string(ck.shape.input_size));

  const size_t ni = ck.input_columns.size();
  ck.mean.assign(ni, 0.0);
  ck.std_dev.assign(ni, 1.0);
  if (cfg.contains("normalization") && !cfg["normalization"].is_null()) {
    const json& norm = cfg["normalization"];
    const std::string where_norm = config_path + ": normalization";
    if (!norm.is_object()) return make_error(where_norm + " must be an object {mean, std} or null");
    auto mean = get_numbers(norm, "mean", ni, where_norm);
    if (!mean.ok()) return mean.error();
    auto sd = get_numbers(norm, "std", ni, where_norm);
    if (!sd.ok()) return sd.error();
    for (size_t i = 0; i < ni; ++i)
      if (!((*sd)[i] > 0) || !std::isfinite((*sd)[i]) || !std::isfinite((*mean)[i]))
        return make_error(where_norm + ": column '" + ck.input_columns[i] + "' needs a finite mean and std > 0");
    ck.mean = std::move(*mean);
    ck.std_dev = std::move(*sd);
  }
  if (cfg.contains("output_scaling") && !cfg["output_scaling"].is_null()) {
    const json& os = cfg["output_scaling"];
    if (!os.is_object()) return make_error(config_path + ": output_scaling must be an object {scale, offset}");
    if (os.contains("scale")) {
      if (!os["scale"].is_number()) return make_error(config_path + ": output_scaling.scale is not a number");
      ck.output_scale = os["scale"].get<double>();
    }
    if (os.contains("offset")) {
      if (!os["offset"].is_number()) return make_error(config_path + ": output_scaling.offset is not a number");
      ck.output_offset = os["offset"].get<double>();
    }
  }
  if (cfg.contains("window_size") && !cfg["window_size"].is_null()) {
    auto w = get_positive_int(cfg, "window_size", config_path);
    if (!w.ok()) return w.error();
    ck.window_size = *w;
  }

  auto file = read_safetensors(weights_path);
  if (!file.ok()) return file.error();
  const int hid = ck.shape.hidden_size;
  const int nd = ck.shape.directions();
  std::vector<LstmDirectionTensors> dirs;
  for (int l = 0; l < ck.shape.num_layers; ++l) {
    for (int d = 0; d < nd; ++d) {
      const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      LstmDirectionTensors t;
      const int64_t g = 4 * static_cast<int64_t>(hid);
      auto wi = take(*file, "lstm.weight_ih" + suffix, {g, ck.shape.layer_input(l)}, weights_path);
      if (!wi.ok()) return wi.error();
      auto wh = take(*file, "lstm.weight_hh" + suffix, {g, hid}, weights_path);
      if (!wh.ok()) return wh.error();
      t.weight_ih = std::move(*wi);
      t.weight_hh = std::move(*wh);
      if (has_bias) {
        auto bi = take(*file, "lstm.bias_ih" + suffix, {g}, weights_path);
        if (!bi.ok()) return bi.error();
        auto bh = take(*file, "lstm.bias_hh" + suffix, {g}, weights_path);
        if (!bh.ok()) return bh.error();
        t.bias_ih = std::move(*bi);
        t.bias_hh = std::move(*bh);
      } else {
        t.bias_ih.assign(static_cast<size_t>(g), 0.0f);
        t.bias_hh.assign(static_cast<size_t>(g), 0.0f);
      }
      dirs.push_back(std::move(t));
    }
  }
  auto fc_w = take(*file, "fc.weight", {1, static_cast<int64_t>(hid) * nd}, weights_path);
  if (!fc_w.ok()) return fc_w.error();
  auto fc_b = take(*file, "fc.bias", {1}, weights_path);
  if (!fc_b.ok()) return fc_b.error();
  if (!file->tensors.empty()) {
    // A tensor the config does not account for (a third layer, a projection, a
    // second head) means config and weights describe different models.
    return make_error(weights_path + ": unexpected tensor '" + file->tensors.begin()->first + "' with shape " +
                      shape_to_string(file->tensors.begin()->second.shape) + " (config.json describes " +
                      std::to_string(ck.shape.num_layers) + " layer(s), " + (nd == 2 ? "bi" : "uni") +
                      "directional, hidden " + std::to_string(hid) + ")");
  }
  ck.net = std::make_unique<LstmNet>(ck.shape, dirs, *fc_w, (*fc_b)[0], max_steps, max_group);
  return ck;
}

}  // namespace af::models
