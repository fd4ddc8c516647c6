#include "models/bilstm_checkpoint.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "models/safetensors.hpp"
#include "models/torch_state_dict.hpp"

namespace af::models {

namespace {

using nlohmann::json;

constexpr int kMaxLayers = 16;

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

using TensorMap = std::map<std::string, LoadedTensor>;

// Takes a tensor out of `tensors`, checking its shape against what `shape_source` implies.
Result<std::vector<float>> take(TensorMap& tensors, const std::string& name, const std::vector<int64_t>& shape,
                                const std::string& where, const std::string& shape_source) {
  auto it = tensors.find(name);
  if (it == tensors.end()) return make_error(where + ": missing tensor '" + name + "'");
  if (it->second.shape != shape)
    return make_error(where + ": tensor '" + name + "' has shape " + shape_to_string(it->second.shape) + " but " +
                      shape_source + " implies " + shape_to_string(shape));
  std::vector<float> data = std::move(it->second.data);
  for (float x : data)
    if (!std::isfinite(x)) return make_error(where + ": tensor '" + name + "' has a non-finite value");
  tensors.erase(it);
  return data;
}

// The architecture as config.json states it; `has_bias` defaults to true.
Status parse_architecture(const json& arch, const std::string& where_arch, LstmShape& shape, bool& has_bias) {
  if (!arch.is_object()) return make_error(where_arch + " must be an object");
  if (arch.contains("type") && arch["type"] != "lstm")
    return make_error(where_arch + ": type " + arch["type"].dump() + " is not supported (only \"lstm\")");
  auto input_size = get_positive_int(arch, "input_size", where_arch);
  if (!input_size.ok()) return input_size.error();
  auto hidden = get_positive_int(arch, "hidden_size", where_arch);
  if (!hidden.ok()) return hidden.error();
  auto layers = get_positive_int(arch, "num_layers", where_arch);
  if (!layers.ok()) return layers.error();
  if (*layers > kMaxLayers)
    return make_error(where_arch + ": num_layers " + std::to_string(*layers) + " is more than " +
                      std::to_string(kMaxLayers));
  if (!arch.contains("bidirectional") || !arch["bidirectional"].is_boolean())
    return make_error(where_arch + ": missing boolean \"bidirectional\"");
  has_bias = !arch.contains("bias") || arch["bias"] == true;
  shape = LstmShape{*input_size, *hidden, *layers, arch["bidirectional"].get<bool>()};
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
  return {};
}

// The architecture a state_dict's tensor names and shapes give (the JSON beside a
// torch.save file may leave it out); the shapes are checked in full by take().
Status infer_architecture(const TensorMap& tensors, const std::string& where, LstmShape& shape, bool& has_bias) {
  auto it = tensors.find("lstm.weight_ih_l0");
  if (it == tensors.end()) {
    std::string names;
    for (const auto& [name, t] : tensors) names += (names.empty() ? "" : ", ") + name;
    return make_error(where + ": no tensor 'lstm.weight_ih_l0': expected the state_dict of a module with .lstm "
                              "(nn.LSTM) and .fc (nn.Linear); it holds " + names);
  }
  if (tensors.count("lstm.weight_hr_l0")) return make_error(where + ": an LSTM with proj_size is not supported");
  const auto& s = it->second.shape;
  if (s.size() != 2 || s[0] % 4 != 0 || s[0] < 4 || s[0] > 4 * 1'000'000 || s[1] < 1 || s[1] > 1'000'000)
    return make_error(where + ": tensor 'lstm.weight_ih_l0' has shape " + shape_to_string(s) +
                      ", not [4 * hidden_size, input_size]");
  int layers = 0;
  while (layers <= kMaxLayers && tensors.count("lstm.weight_ih_l" + std::to_string(layers))) ++layers;
  if (layers > kMaxLayers) return make_error(where + ": more than " + std::to_string(kMaxLayers) + " LSTM layers");
  shape = LstmShape{static_cast<int>(s[1]), static_cast<int>(s[0] / 4), layers,
                    tensors.count("lstm.weight_ih_l0_reverse") > 0};
  has_bias = tensors.count("lstm.bias_ih_l0") > 0;
  return {};
}

// The state_dict of a torch.save file, without the "module." prefix that
// nn.DataParallel puts on every name.
Result<TensorMap> torch_tensors(const std::string& path, std::string& key) {
  auto sd = read_torch_state_dict(path);
  if (!sd.ok()) return sd.error();
  key = sd->key;
  const std::string prefix = "module.";
  bool wrapped = true;
  for (const auto& [name, t] : sd->tensors) wrapped = wrapped && name.rfind(prefix, 0) == 0;
  if (!wrapped) return std::move(sd->tensors);
  TensorMap out;
  for (auto& [name, t] : sd->tensors) out.emplace(name.substr(prefix.size()), std::move(t));
  return out;
}

}  // namespace

Result<BilstmCheckpoint> load_bilstm_checkpoint(const CheckpointFiles& files, int max_steps, int max_group) {
  namespace fs = std::filesystem;
  const std::string& config_path = files.config;
  const std::string& weights_path = files.weights;
  const std::string config_name = fs::path(config_path).filename().string();
  const bool torch_save = files.format == CheckpointFormat::kTorchSave;

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
  ck.files = files;
  if (!cfg.contains("version") || !cfg["version"].is_number_integer())
    return make_error(config_path + ": missing integer \"version\"");
  if (cfg["version"].get<int64_t>() != kBilstmFormatVersion)
    return make_error(config_path + ": version " + cfg["version"].dump() + " is not supported (this build reads " +
                      std::to_string(kBilstmFormatVersion) + ")");
  // The JSON beside a torch.save file may leave the architecture to the tensors.
  const bool stated = cfg.contains("architecture") && !(torch_save && cfg["architecture"].is_null());
  if (!torch_save && !(stated && cfg["architecture"].is_object()))
    return make_error(config_path + ": missing object \"architecture\"");
  bool has_bias = true;
  if (stated) {
    if (auto st = parse_architecture(cfg["architecture"], config_path + ": architecture", ck.shape, has_bias); !st.ok())
      return st.error();
  }

  if (!cfg.contains("input_columns") || !cfg["input_columns"].is_array())
    return make_error(config_path + ": missing list \"input_columns\"");
  std::set<std::string> seen;
  for (const auto& c : cfg["input_columns"]) {
    if (!c.is_string()) return make_error(config_path + ": input_columns has a non-string " + c.dump());
    if (!seen.insert(c.get<std::string>()).second)
      return make_error(config_path + ": input column '" + c.get<std::string>() + "' is listed twice");
    ck.input_columns.push_back(c.get<std::string>());
  }
  if (ck.input_columns.empty()) return make_error(config_path + ": input_columns is empty");
  if (stated && static_cast<int>(ck.input_columns.size()) != ck.shape.input_size)
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

  TensorMap tensors;
  if (torch_save) {
    auto t = torch_tensors(weights_path, ck.state_dict_key);
    if (!t.ok()) return t.error();
    tensors = std::move(*t);
  } else {
    auto file = read_safetensors(weights_path);
    if (!file.ok()) return file.error();
    tensors = std::move(file->tensors);
  }
  const std::string shape_source = stated ? config_name : "lstm.weight_ih_l0";
  if (!stated) {
    if (auto st = infer_architecture(tensors, weights_path, ck.shape, has_bias); !st.ok()) return st.error();
    if (static_cast<int>(ni) != ck.shape.input_size)
      return make_error(config_path + ": " + std::to_string(ni) + " input_columns but the LSTM in " + weights_path +
                        " takes " + std::to_string(ck.shape.input_size) + " inputs");
  }

  const int hid = ck.shape.hidden_size;
  const int nd = ck.shape.directions();
  std::vector<LstmDirectionTensors> dirs;
  for (int l = 0; l < ck.shape.num_layers; ++l) {
    for (int d = 0; d < nd; ++d) {
      const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      LstmDirectionTensors t;
      const int64_t g = 4 * static_cast<int64_t>(hid);
      auto wi = take(tensors, "lstm.weight_ih" + suffix, {g, ck.shape.layer_input(l)}, weights_path, shape_source);
      if (!wi.ok()) return wi.error();
      auto wh = take(tensors, "lstm.weight_hh" + suffix, {g, hid}, weights_path, shape_source);
      if (!wh.ok()) return wh.error();
      t.weight_ih = std::move(*wi);
      t.weight_hh = std::move(*wh);
      if (has_bias) {
        auto bi = take(tensors, "lstm.bias_ih" + suffix, {g}, weights_path, shape_source);
        if (!bi.ok()) return bi.error();
        auto bh = take(tensors, "lstm.bias_hh" + suffix, {g}, weights_path, shape_source);
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
  auto fc_w = take(tensors, "fc.weight", {1, static_cast<int64_t>(hid) * nd}, weights_path, shape_source);
  if (!fc_w.ok()) return fc_w.error();
  auto fc_b = take(tensors, "fc.bias", {1}, weights_path, shape_source);
  if (!fc_b.ok()) return fc_b.error();
  if (!tensors.empty()) {
    // A tensor the architecture does not account for (a third layer, a projection,
    // a second head) means the JSON and the weights describe different models.
    return make_error(weights_path + ": unexpected tensor '" + tensors.begin()->first + "' with shape " +
                      shape_to_string(tensors.begin()->second.shape) + " (" + (stated ? config_name : "the LSTM") +
                      " describes " + std::to_string(ck.shape.num_layers) + " layer(s), " + (nd == 2 ? "bi" : "uni") +
                      "directional, hidden " + std::to_string(hid) + ")");
  }
  ck.net = std::make_unique<LstmNet>(ck.shape, dirs, *fc_w, (*fc_b)[0], max_steps, max_group);
  return ck;
}

}  // namespace af::models
