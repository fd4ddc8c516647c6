// Checkpoints as torch.save writes them (tests/golden/models/torch/, from
// tools/make_torch_checkpoints.py): each shape loads and predicts PyTorch's
// outputs to 1e-5 and the portable export's bit for bit; model_ref picks one of
// several; hostile files are clear errors and run nothing.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "models/register_builtins.hpp"
#include "models/safetensors.hpp"
#include "models/torch_state_dict.hpp"
#include "unit/models/checkpoint_files.hpp"
#include "unit/models/test_frame.hpp"

namespace af::models {
namespace {

namespace fs = std::filesystem;
using testing::ContextHolder;
using testing::read_json;
using testing::TempDir;

const char* kName = "models.pytorch_bilstm_predictor: ";

fs::path torch_dir() { return testing::golden_dir() / "torch"; }
fs::path hostile(const std::string& file) { return torch_dir() / "hostile" / file; }

std::vector<std::string> case_names() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(torch_dir()))
    if (fs::exists(e.path() / "cases.json")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::unique_ptr<Model>> build(const ContextHolder& h) {
  static ModelRegistry reg = [] {
    ModelRegistry r;
    register_builtins(r);
    return r;
  }();
  return reg.find("models.pytorch_bilstm_predictor")->factory(h.context());
}

std::string error_of(const ContextHolder& h) {
  auto m = build(h);
  EXPECT_FALSE(m.ok());
  return m.ok() ? std::string() : m.error().message;
}

// A frame holding `columns` (and an unrelated column first, so the mapping by
// name is exercised), a unified model over `dir`.
ContextHolder context(const fs::path& dir, const std::vector<std::string>& columns, int64_t window) {
  std::vector<std::string> extras{"unrelated"};
  extras.insert(extras.end(), columns.rbegin(), columns.rend());
  extras.push_back("model.prediction");
  ContextHolder h;
  h.columns = testing::frame_columns(extras);
  h.first_output_column = static_cast<int>(h.columns.size()) - 1;
  h.capacity = window + 4;
  h.params.set("strategy", std::string("unified"));
  h.params.set("window_size", window);
  h.params.set("checkpoint_dir", dir.string());
  return h;
}

std::vector<std::string> columns_of(const fs::path& meta) {
  return read_json(meta)["input_columns"].get<std::vector<std::string>>();
}

// The model's prediction over one case's window.
double predict(Model& model, const ContextHolder& h, const std::vector<std::string>& inputs,
               const nlohmann::json& rows) {
  SymbolSeries s(h.columns.size(), static_cast<size_t>(h.capacity));
  int64_t ts = 0;
  for (const auto& r : rows) {
    const auto values = r.get<std::vector<double>>();
    Bar b;
    b.ts = ts++;
    auto row = s.append(b);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto it = std::find(h.columns.begin(), h.columns.end(), inputs[i]);
      row[static_cast<size_t>(it - h.columns.begin())] = values[i];
    }
  }
  return model.predict(0, s);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(TorchCheckpoint, EveryShapeMatchesPyTorchAndTheExportBitForBit) {
  const auto names = case_names();
  ASSERT_EQ(names.size(), 6u) << "fixtures missing under " << torch_dir();
  int checked = 0;
  double worst = 0;
  for (const auto& name : names) {
    const fs::path dir = torch_dir() / name;
    const auto golden = read_json(dir / "cases.json");
    const fs::path pt = dir / golden["checkpoint"].get<std::string>();
    const auto inputs = columns_of(fs::path(pt).replace_extension(".json"));
    const int64_t window = golden["window_size"].get<int64_t>();
    auto h = context(dir, inputs, window);
    auto model = build(h);
    ASSERT_TRUE(model.ok()) << name << ": " << model.error().message;
    auto href = context(dir / "reference", inputs, window);
    auto reference = build(href);
    ASSERT_TRUE(reference.ok()) << name << ": " << reference.error().message;
    for (const auto& c : golden["cases"]) {
      const double got = predict(**model, h, inputs, c["inputs"]);
      const double expected = c["expected"].get<double>();
      EXPECT_NEAR(got, expected, 1e-5) << name;
      EXPECT_TRUE(same_bits(got, predict(**reference, href, inputs, c["inputs"]))) << name;
      worst = std::max(worst, std::fabs(got - expected));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 18);
  RecordProperty("max_abs_error", std::to_string(worst));
  std::printf("torch.save cases: %d, max |C++ - PyTorch| = %.3g\n", checked, worst);
}

TEST(TorchCheckpoint, TensorsEqualTheExportAndTheStateDictIsFoundUnderItsKey) {
  for (const auto& name : case_names()) {
    const fs::path dir = torch_dir() / name;
    const auto golden = read_json(dir / "cases.json");
    auto sd = read_torch_state_dict((dir / golden["checkpoint"].get<std::string>()).string());
    ASSERT_TRUE(sd.ok()) << name << ": " << sd.error().message;
    EXPECT_EQ(sd->key, golden["state_dict_key"].get<std::string>()) << name;
    EXPECT_EQ(sd->other_keys, golden["other_keys"].get<std::vector<std::string>>()) << name;
    auto ref = read_safetensors((dir / "reference" / "weights.safetensors").string());
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    ASSERT_EQ(sd->tensors.size(), ref->tensors.size()) << name;
    for (const auto& [saved_name, t] : sd->tensors) {
      const std::string plain = saved_name.rfind("module.", 0) == 0 ? saved_name.substr(7) : saved_name;
      ASSERT_TRUE(ref->tensors.count(plain)) << name << ": " << saved_name;
      const auto& r = ref->tensors.at(plain);
      EXPECT_EQ(t.dtype, r.dtype) << name << ": " << plain;
      EXPECT_EQ(t.shape, r.shape) << name << ": " << plain;
      ASSERT_EQ(t.data.size(), r.data.size());
      EXPECT_EQ(std::memcmp(t.data.data(), r.data.data(), t.data.size() * sizeof(float)), 0) << name << ": " << plain;
    }
  }
}

// Copies a fixture's checkpoint and metadata into `dir` under a new stem.
void copy_checkpoint(const std::string& fixture, const fs::path& dir, const std::string& stem, const std::string& ext) {
  const fs::path src = torch_dir() / fixture;
  const auto golden = read_json(src / "cases.json");
  const fs::path pt = src / golden["checkpoint"].get<std::string>();
  fs::copy_file(pt, dir / (stem + ext));
  fs::copy_file(fs::path(pt).replace_extension(".json"), dir / (stem + ".json"));
}

TEST(TorchCheckpoint, ModelRefSelectsOneOfSeveral) {
  TempDir tmp("select");
  const fs::path dir = tmp.path();
  copy_checkpoint("bare_f32", dir, "alpha", ".pt");
  copy_checkpoint("views_f32", dir, "beta", ".pth");
  auto alpha_cols = columns_of(dir / "alpha.json");
  auto beta_cols = columns_of(dir / "beta.json");
  std::vector<std::string> both = alpha_cols;
  both.insert(both.end(), beta_cols.begin(), beta_cols.end());
  const auto alpha = read_json(torch_dir() / "bare_f32" / "cases.json");
  const auto beta = read_json(torch_dir() / "views_f32" / "cases.json");

  auto h = context(dir, both, 10);
  EXPECT_EQ(error_of(h), std::string(kName) + "checkpoint_dir '" + dir.string() +
                             "' holds several checkpoints (alpha.pt, beta.pth): set model_ref to "
                             "'<stem>.<strategy>' to choose one");
  h.model_ref = "alpha.unified";
  auto m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NEAR(predict(**m, h, alpha_cols, alpha["cases"][0]["inputs"]), alpha["cases"][0]["expected"].get<double>(),
              1e-5);

  h = context(dir, both, 8);
  h.model_ref = "beta.unified";
  m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NEAR(predict(**m, h, beta_cols, beta["cases"][1]["inputs"]), beta["cases"][1]["expected"].get<double>(), 1e-5);

  h.model_ref = "gamma.unified";
  EXPECT_EQ(error_of(h), std::string(kName) + "checkpoint_dir '" + dir.string() +
                             "' holds several checkpoints (alpha.pt, beta.pth): model_ref names 'gamma', which is "
                             "none of them");
  fs::copy_file(torch_dir() / "bare_f32" / "model.pt", dir / "beta.pt");
  h.model_ref = "beta.unified";
  EXPECT_EQ(error_of(h), std::string(kName) + "checkpoint_dir '" + dir.string() +
                             "' holds both beta.pt and beta.pth: model_ref cannot tell which to load");
}

TEST(TorchCheckpoint, OneFileIsTakenWhateverItsStemAndModelRefBeatsTheExport) {
  TempDir tmp("one");
  const fs::path dir = tmp.path();
  copy_checkpoint("model_state_dict_f16", dir, "whatever", ".pt");
  const auto golden = read_json(torch_dir() / "model_state_dict_f16" / "cases.json");
  const auto cols = columns_of(dir / "whatever.json");
  auto h = context(dir, cols, 6);
  h.model_ref = "my_model.unified";  // the seed's model_ref: a single checkpoint is taken whatever its stem
  auto m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const double torch_value = predict(**m, h, cols, golden["cases"][2]["inputs"]);
  EXPECT_NEAR(torch_value, golden["cases"][2]["expected"].get<double>(), 1e-5);

  // Beside a portable export (here: the same model with its output shifted by 1),
  // the export wins unless model_ref names the torch.save file.
  for (const char* f : {"config.json", "weights.safetensors"})
    fs::copy_file(torch_dir() / "model_state_dict_f16" / "reference" / f, dir / f);
  auto cfg = read_json(dir / "config.json");
  cfg["output_scaling"]["offset"] = 1.0;
  testing::write_text(dir / "config.json", cfg.dump());
  m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(predict(**m, h, cols, golden["cases"][2]["inputs"]), torch_value + 1.0);
  h.model_ref = "whatever.unified";
  m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(predict(**m, h, cols, golden["cases"][2]["inputs"]), torch_value);
}

TEST(TorchCheckpoint, PerSymbolFoldersHoldTorchFiles) {
  TempDir tmp("per");
  for (const char* symbol : {"BTCUSDT", "ETHUSDT"}) {
    fs::create_directories(tmp.path() / symbol);
    copy_checkpoint("bare_f32", tmp.path() / symbol, "bilstm", ".pt");
  }
  const auto golden = read_json(torch_dir() / "bare_f32" / "cases.json");
  const auto cols = columns_of(tmp.path() / "BTCUSDT" / "bilstm.json");
  auto h = context(tmp.path(), cols, 10);
  h.params.set("strategy", std::string("per_symbol"));
  h.model_ref = "bilstm.per_symbol";
  auto m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NEAR(predict(**m, h, cols, golden["cases"][0]["inputs"]), golden["cases"][0]["expected"].get<double>(), 1e-5);
}

TEST(TorchCheckpoint, MetadataProblemsNameTheFile) {
  TempDir tmp("meta");
  const fs::path dir = tmp.path();
  copy_checkpoint("model_state_dict_f16", dir, "best", ".pt");
  const auto cols = columns_of(dir / "best.json");
  auto h = context(dir, cols, 6);
  // The architecture is inferred; a column list of the wrong length is caught against it.
  auto meta = read_json(dir / "best.json");
  ASSERT_FALSE(meta.contains("architecture"));
  meta["input_columns"].erase(4);
  meta["normalization"] = nullptr;
  testing::write_text(dir / "best.json", meta.dump());
  EXPECT_EQ(error_of(h), std::string(kName) + (dir / "best.json").string() + ": 4 input_columns but the LSTM in " +
                             (dir / "best.pt").string() + " takes 5 inputs");
  // A stated architecture that disagrees with the tensors.
  meta = read_json(torch_dir() / "bare_f32" / "model.json");
  fs::remove(dir / "best.pt");
  fs::copy_file(torch_dir() / "bare_f32" / "model.pt", dir / "best.pt");
  meta["architecture"]["hidden_size"] = 9;
  testing::write_text(dir / "best.json", meta.dump());
  h = context(dir, columns_of(dir / "best.json"), 10);
  EXPECT_EQ(error_of(h), std::string(kName) + (dir / "best.pt").string() +
                             ": tensor 'lstm.weight_ih_l0' has shape [32, 4] but best.json implies [36, 4]");
  fs::remove(dir / "best.json");
  EXPECT_EQ(error_of(h), std::string(kName) + (dir / "best.pt").string() +
                             ": its metadata best.json (input columns, normalisation, window) is missing; write it "
                             "with `/usr/bin/python3 tools/export_bilstm.py best.pt --meta-only --columns c1,c2,...` "
                             "(docs/models.md)");
}

TEST(TorchCheckpoint, PickleCodeIsNeverRun) {
  const char* marker = "/tmp/af_torch_checkpoint_pwned";
  fs::remove(marker);
  const std::string path = hostile("os_system.pt").string();
  auto sd = read_torch_state_dict(path);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.error().message, path + ": os_system/data.pkl: byte 19: global 'os.system' is not allowed (only "
                                       "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.FloatStorage, "
                                       "torch.DoubleStorage, torch.HalfStorage, torch.BFloat16Storage are)");
  EXPECT_FALSE(fs::exists(marker));

  // Through the model factory, with metadata beside it: the same error, named.
  TempDir tmp("pwn");
  fs::copy_file(path, tmp.path() / "os_system.pt");
  fs::copy_file(torch_dir() / "bare_f32" / "model.json", tmp.path() / "os_system.json");
  auto h = context(tmp.path(), columns_of(tmp.path() / "os_system.json"), 10);
  const auto msg = error_of(h);
  EXPECT_EQ(msg.rfind(std::string(kName) + (tmp.path() / "os_system.pt").string() + ": os_system/data.pkl: byte 19: "
                      "global 'os.system' is not allowed", 0), 0u) << msg;
  EXPECT_FALSE(fs::exists(marker));
}

std::string torch_error(const std::string& file, const TorchLimits& limits = {}) {
  auto sd = read_torch_state_dict(hostile(file).string(), limits);
  EXPECT_FALSE(sd.ok()) << file;
  return sd.ok() ? std::string() : sd.error().message;
}

TEST(TorchCheckpoint, HostileFilesAreClearErrors) {
  const auto at = [](const std::string& file) { return hostile(file).string() + ": "; };
  EXPECT_EQ(torch_error("reduce_storage.pt"),
            at("reduce_storage.pt") + "reduce_storage/data.pkl: byte 39: REDUCE of global torch.FloatStorage is not "
                                      "allowed (it is not a callable this reader accepts)");
  EXPECT_EQ(torch_error("whole_module.pt"),
            at("whole_module.pt") + "whole_module/data.pkl: byte 2: global '__main__.LstmRegressor' is not allowed "
                                    "(only collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.FloatStorage, "
                                    "torch.DoubleStorage, torch.HalfStorage, torch.BFloat16Storage are)");
  EXPECT_EQ(torch_error("truncated.pt").rfind(at("truncated.pt") + "not a readable zip archive (truncated or corrupt?): ", 0),
            0u) << torch_error("truncated.pt");
  EXPECT_EQ(torch_error("huge_declared.pt"),
            at("huge_declared.pt") + "entry 'model/data.pkl' declares 4294967280 bytes, more than the limit of 67108864");
  EXPECT_EQ(torch_error("bad_crc.pt"), at("bad_crc.pt") + "entry 'model/data/0': corrupt: CRC error");
  EXPECT_EQ(torch_error("short_storage.pt"),
            at("short_storage.pt") + "tensor 'fc.weight': offset 0, size [1, 17] and stride [17, 1] reach past the end "
                                     "of its storage (16 F32 elements)");
  EXPECT_EQ(torch_error("offset_past_end.pt"),
            at("offset_past_end.pt") + "tensor 'fc.bias': offset 16, size [1] and stride [1] reach past the end of its "
                                       "storage (16 F32 elements)");
  EXPECT_EQ(torch_error("huge_numel.pt"),
            at("huge_numel.pt") + "tensor 'fc.weight': storage 'huge_numel/data/0' declares 1125899906842624 F32 "
                                  "elements, more than the limit of 1073741824 bytes");
  EXPECT_EQ(torch_error("huge_view.pt"),
            at("huge_view.pt") + "tensor 'fc.weight': size [1048576, 1048576] has more than 268435456 elements");
  EXPECT_EQ(torch_error("storage_entry_short.pt"),
            at("storage_entry_short.pt") + "tensor 'fc.weight': storage 'storage_entry_short/data/0' holds 60 bytes but "
                                           "its persistent id declares 16 F32 elements (64 bytes)");
  EXPECT_EQ(torch_error("no_state_dict.pt"),
            at("no_state_dict.pt") + "holds no state_dict: a dict whose entry 'epoch' is an int, not a tensor, and no "
                                     "dict under 'state_dict', 'model_state_dict' or 'model' (top-level keys: 'epoch', "
                                     "'net')");
  EXPECT_EQ(torch_error("long_tensor.pt").rfind(at("long_tensor.pt") + "long_tensor/data.pkl: byte ", 0), 0u);
  EXPECT_NE(torch_error("long_tensor.pt").find(": global 'torch.LongStorage' is not allowed (only "), std::string::npos)
      << torch_error("long_tensor.pt");
  EXPECT_EQ(torch_error("legacy.pt"),
            at("legacy.pt") + "a legacy (pre-zip) torch.save file, written by PyTorch < 1.6 or with "
                              "_use_new_zipfile_serialization=False; load it and save it again with torch.save");
}

TEST(TorchCheckpoint, LimitsAreCheckedBeforeAllocating) {
  const std::string path = (torch_dir() / "bare_f32" / "model.pt").string();
  TorchLimits limits;
  limits.max_pickle_bytes = 100;
  auto sd = read_torch_state_dict(path, limits);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.error().message.rfind(path + ": entry 'model/data.pkl' declares ", 0), 0u) << sd.error().message;
  EXPECT_NE(sd.error().message.find("bytes, more than the limit of 100"), std::string::npos) << sd.error().message;
  limits = {};
  limits.max_tensor_elements = 100;  // the first tensor, lstm.weight_ih_l0, is [32, 4]
  sd = read_torch_state_dict(path, limits);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.error().message, path + ": tensor 'lstm.weight_ih_l0': size [32, 4] has more than 100 elements");
  limits = {};
  limits.max_total_bytes = 1000;
  sd = read_torch_state_dict(path, limits);
  ASSERT_FALSE(sd.ok());
  EXPECT_NE(sd.error().message.find("the state_dict's storages exceed the limit of 1000 bytes"), std::string::npos)
      << sd.error().message;
}

TEST(TorchCheckpoint, NotAStateDict) {
  TempDir tmp("notsd");
  // A zip that is not torch's, and a file that is no zip.
  testing::write_text(tmp.path() / "text.pt", "hello");
  auto sd = read_torch_state_dict((tmp.path() / "text.pt").string());
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.error().message, (tmp.path() / "text.pt").string() + ": not a torch.save file (no zip signature)");
}

}  // namespace
}  // namespace af::models
