// Start-up validation of models.pytorch_bilstm_predictor: every problem with a
// checkpoint or the pipeline is a factory error with a clear message.

#include <gtest/gtest.h>

#include "models/register_builtins.hpp"
#include "models/safetensors.hpp"
#include "unit/models/checkpoint_files.hpp"
#include "unit/models/test_frame.hpp"

namespace af::models {
namespace {

namespace fs = std::filesystem;
using testing::ContextHolder;
using testing::golden_dir;
using testing::TempDir;

const char* kGolden = "uni_l2_h10";  // 3 inputs, window 9

Result<std::unique_ptr<Model>> build(const ContextHolder& h) {
  static ModelRegistry reg = [] {
    ModelRegistry r;
    register_builtins(r);
    return r;
  }();
  return reg.find("models.pytorch_bilstm_predictor")->factory(h.context());
}

ContextHolder context(const fs::path& dir, int64_t window = 9, const std::string& strategy = "unified") {
  const auto cfg = testing::read_json(golden_dir() / kGolden / "config.json");
  auto inputs = cfg["input_columns"].get<std::vector<std::string>>();
  inputs.push_back("model.prediction");
  ContextHolder h;
  h.columns = testing::frame_columns(inputs);
  h.first_output_column = static_cast<int>(h.columns.size()) - 1;
  h.capacity = 40;
  h.params.set("strategy", strategy);
  h.params.set("window_size", window);
  h.params.set("checkpoint_dir", dir.string());
  return h;
}

// A copy of the golden checkpoint, to be damaged by a test.
fs::path copy_golden(const TempDir& tmp, const std::string& sub = "ck") {
  const fs::path dst = tmp.path() / sub;
  fs::create_directories(dst);
  fs::copy_file(golden_dir() / kGolden / "config.json", dst / "config.json");
  fs::copy_file(golden_dir() / kGolden / "weights.safetensors", dst / "weights.safetensors");
  return dst;
}

std::string error_of(const ContextHolder& h) {
  auto m = build(h);
  EXPECT_FALSE(m.ok());
  return m.ok() ? std::string() : m.error().message;
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& f) {
  auto cfg = testing::read_json(dir / "config.json");
  f(cfg);
  testing::write_text(dir / "config.json", cfg.dump(2));
}

// The checkpoint's tensors re-written as F32 with `edit` applied to the map.
void edit_weights(const fs::path& dir, const std::function<void(std::map<std::string, testing::RawTensor>&)>& edit) {
  auto file = read_safetensors((dir / "weights.safetensors").string());
  ASSERT_TRUE(file.ok());
  std::map<std::string, testing::RawTensor> raw;
  for (const auto& [name, t] : file->tensors) raw[name] = testing::f32_tensor(t.shape, t.data);
  edit(raw);
  testing::write_bytes(dir / "weights.safetensors", testing::safetensors_bytes(raw));
}

TEST(BilstmValidation, GoldenCopyLoads) {
  TempDir tmp("ok");
  auto m = build(context(copy_golden(tmp)));
  ASSERT_TRUE(m.ok()) << m.error().message;
}

TEST(BilstmValidation, UnknownInputColumnWithSuggestion) {
  TempDir tmp("col");
  const auto dir = copy_golden(tmp);
  edit_config(dir, [](auto& cfg) { cfg["input_columns"][1] = "x1_uni_l2_h1O"; });
  EXPECT_EQ(error_of(context(dir)), "models.pytorch_bilstm_predictor (checkpoint '" + dir.string() +
                                        "'): input column 'x1_uni_l2_h1O' is not a column of the model's frame "
                                        "(did you mean 'x1_uni_l2_h10'?)");
}

TEST(BilstmValidation, WindowLargerThanFrameCapacity) {
  TempDir tmp("cap");
  EXPECT_EQ(error_of(context(copy_golden(tmp), 41)),
            "models.pytorch_bilstm_predictor: window_size 41 exceeds the frame's capacity of 40 rows per symbol");
}

TEST(BilstmValidation, WindowDifferentFromTraining) {
  TempDir tmp("win");
  const auto dir = copy_golden(tmp);
  EXPECT_EQ(error_of(context(dir, 10)), "models.pytorch_bilstm_predictor: window_size 10 but the checkpoint in '" +
                                            dir.string() + "' was trained on windows of 9 rows");
}

TEST(BilstmValidation, ConfigShapeDisagreesWithWeights) {
  TempDir tmp("shape");
  const auto dir = copy_golden(tmp);
  edit_config(dir, [](auto& cfg) { cfg["architecture"]["hidden_size"] = 12; });
  const auto msg = error_of(context(dir));
  EXPECT_EQ(msg, "models.pytorch_bilstm_predictor: " + (dir / "weights.safetensors").string() +
                     ": tensor 'lstm.weight_ih_l0' has shape [40, 3] but config.json implies [48, 3]");
}

TEST(BilstmValidation, ConfigSaysFewerLayersThanWeights) {
  TempDir tmp("layers");
  const auto dir = copy_golden(tmp);
  edit_config(dir, [](auto& cfg) { cfg["architecture"]["num_layers"] = 1; });
  const auto msg = error_of(context(dir));
  EXPECT_NE(msg.find("unexpected tensor 'lstm.bias_hh_l1' with shape [40]"), std::string::npos) << msg;
}

TEST(BilstmValidation, ConfigSaysBidirectionalButNoReverseWeights) {
  TempDir tmp("bidir");
  const auto dir = copy_golden(tmp);
  edit_config(dir, [](auto& cfg) { cfg["architecture"]["bidirectional"] = true; });
  const auto msg = error_of(context(dir));
  EXPECT_NE(msg.find("missing tensor 'lstm.weight_ih_l0_reverse'"), std::string::npos) << msg;
}

TEST(BilstmValidation, MissingTensor) {
  TempDir tmp("missing");
  const auto dir = copy_golden(tmp);
  edit_weights(dir, [](auto& raw) { raw.erase("lstm.weight_hh_l1"); });
  EXPECT_EQ(error_of(context(dir)), "models.pytorch_bilstm_predictor: " + (dir / "weights.safetensors").string() +
                                        ": missing tensor 'lstm.weight_hh_l1'");
}

TEST(BilstmValidation, HeadMissing) {
  TempDir tmp("head");
  const auto dir = copy_golden(tmp);
  edit_weights(dir, [](auto& raw) { raw.erase("fc.bias"); });
  EXPECT_NE(error_of(context(dir)).find("missing tensor 'fc.bias'"), std::string::npos);
}

TEST(BilstmValidation, TruncatedWeights) {
  TempDir tmp("trunc");
  const auto dir = copy_golden(tmp);
  auto bytes = testing::read_bytes(dir / "weights.safetensors");
  bytes.resize(bytes.size() - 100);
  testing::write_bytes(dir / "weights.safetensors", bytes);
  const auto msg = error_of(context(dir));
  EXPECT_NE(msg.find("outside the data"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated or corrupt file"), std::string::npos) << msg;
}

TEST(BilstmValidation, CorruptHeader) {
  TempDir tmp("corrupt");
  const auto dir = copy_golden(tmp);
  auto bytes = testing::read_bytes(dir / "weights.safetensors");
  bytes[9] = '#';
  testing::write_bytes(dir / "weights.safetensors", bytes);
  const auto msg = error_of(context(dir));
  EXPECT_NE(msg.find("weights.safetensors: header is not valid JSON"), std::string::npos) << msg;
}

TEST(BilstmValidation, MissingFilesAndDirectories) {
  TempDir tmp("files");
  EXPECT_EQ(error_of(context(tmp.path() / "nope")),
            "models.pytorch_bilstm_predictor: checkpoint_dir '" + (tmp.path() / "nope").string() +
                "' is not a directory");
  const auto dir = copy_golden(tmp);
  fs::remove(dir / "weights.safetensors");
  EXPECT_EQ(error_of(context(dir)),
            "models.pytorch_bilstm_predictor: " + (dir / "weights.safetensors").string() + ": cannot open");
  fs::remove(dir / "config.json");
  EXPECT_EQ(error_of(context(dir)), "models.pytorch_bilstm_predictor: " + (dir / "config.json").string() + ": cannot open");
}

TEST(BilstmValidation, BadConfigFields) {
  TempDir tmp("cfg");
  const auto dir = copy_golden(tmp);
  const std::string prefix = "models.pytorch_bilstm_predictor: " + (dir / "config.json").string() + ": ";
  edit_config(dir, [](auto& cfg) { cfg["version"] = 2; });
  EXPECT_EQ(error_of(context(dir)), prefix + "version 2 is not supported (this build reads 1)");
  edit_config(dir, [](auto& cfg) {
    cfg["version"] = 1;
    cfg["normalization"]["std"][2] = 0.0;
  });
  EXPECT_EQ(error_of(context(dir)),
            prefix + "normalization: column 'x2_uni_l2_h10' needs a finite mean and std > 0");
  edit_config(dir, [](auto& cfg) {
    cfg["normalization"] = nullptr;
    cfg["input_columns"].erase(2);
  });
  EXPECT_EQ(error_of(context(dir)), prefix + "2 input_columns but architecture.input_size is 3");
}

TEST(BilstmValidation, ModelRefContradictsStrategy) {
  TempDir tmp("ref");
  auto h = context(copy_golden(tmp));
  h.model_ref = "mymodel.per_symbol";
  EXPECT_EQ(error_of(h),
            "models.pytorch_bilstm_predictor: model_ref 'mymodel.per_symbol' names a per_symbol model but strategy is "
            "unified");
  h.model_ref = "mymodel.unified";
  EXPECT_TRUE(build(h).ok());
}

TEST(BilstmValidation, PerSymbolLoadsOneCheckpointPerSymbol) {
  TempDir tmp("per");
  auto h = context(tmp.path(), 9, "per_symbol");
  h.symbols = {"BTCUSDT", "ETHUSDT"};
  h.model_ref = "mymodel.per_symbol";
  copy_golden(tmp, "BTCUSDT");
  EXPECT_EQ(error_of(h), "models.pytorch_bilstm_predictor: checkpoint_dir '" + (tmp.path() / "ETHUSDT").string() +
                             "' is not a directory");
  const auto eth = copy_golden(tmp, "ETHUSDT");
  // ETH's model is BTC's with the output shifted by 1: the two must not be mixed up.
  edit_config(eth, [](auto& cfg) { cfg["output_scaling"]["offset"] = 1.0; });
  auto m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto golden = testing::read_json(golden_dir() / kGolden / "cases.json");
  const auto& c = golden["cases"][0];
  std::vector<SymbolSeries> series(2, SymbolSeries(h.columns.size(), 40));
  for (auto& s : series) {
    int64_t ts = 0;
    for (const auto& row : c["inputs"]) testing::append_row(s, ts++, 1.0, row.get<std::vector<double>>());
  }
  const double expected = c["expected"].get<double>();
  EXPECT_NEAR((*m)->predict(0, series[0]), expected, 1e-5);
  EXPECT_NEAR((*m)->predict(1, series[1]), expected + 1.0, 1e-5);
  std::vector<SymbolId> ids{1, 0};
  std::vector<const SymbolSeries*> ptrs{&series[1], &series[0]};
  std::vector<double> out(2);
  (*m)->predict_batch(ids, ptrs, out);
  EXPECT_EQ(out[0], (*m)->predict(1, series[1]));
  EXPECT_EQ(out[1], (*m)->predict(0, series[0]));
}

TEST(BilstmValidation, PerSymbolWithOneSymbolBatches) {
  TempDir tmp("per1");
  auto h = context(tmp.path(), 9, "per_symbol");
  h.symbols = {"BTCUSDT"};
  copy_golden(tmp, "BTCUSDT");
  auto m = build(h);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto golden = testing::read_json(golden_dir() / kGolden / "cases.json");
  std::vector<SymbolSeries> series(3, SymbolSeries(h.columns.size(), 40));
  for (size_t k = 0; k < series.size(); ++k) {
    int64_t ts = 0;
    for (const auto& row : golden["cases"][k]["inputs"]) testing::append_row(series[k], ts++, 1.0, row.get<std::vector<double>>());
  }
  std::vector<SymbolId> ids{0, 0, 0};
  std::vector<const SymbolSeries*> ptrs{&series[0], &series[1], &series[2]};
  std::vector<double> out(3);
  (*m)->predict_batch(ids, ptrs, out);
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(out[k], golden["cases"][k]["expected"].get<double>(), 1e-5);
}

TEST(BilstmValidation, DescriptorWarmupIsWindowSize) {
  ModelRegistry reg;
  register_builtins(reg);
  const auto* e = reg.find("models.pytorch_bilstm_predictor");
  ASSERT_NE(e, nullptr);
  registry::Params p;
  p.set("window_size", int64_t{30});
  EXPECT_EQ(e->descriptor.warmup_rows(p), 30);
  EXPECT_EQ(e->descriptor.input, registry::InputKind::kFrame);
  EXPECT_EQ(e->descriptor.max_outputs, 1);
}

}  // namespace
}  // namespace af::models
