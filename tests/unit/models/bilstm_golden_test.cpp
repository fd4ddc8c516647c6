// PyTorch's outputs (committed golden files, tools/make_model_goldens.py) against
// models.pytorch_bilstm_predictor, and batch-vs-single bit-identity.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdlib>
#include <map>
#include <random>

#include "models/register_builtins.hpp"
#include "unit/models/checkpoint_files.hpp"
#include "unit/models/test_frame.hpp"

namespace af::models {
namespace {

namespace fs = std::filesystem;
using testing::ContextHolder;
using testing::golden_dir;
using testing::read_json;

const ModelRegistry::Entry& bilstm_entry() {
  static ModelRegistry reg = [] {
    ModelRegistry r;
    register_builtins(r);
    return r;
  }();
  const auto* e = reg.find("models.pytorch_bilstm_predictor");
  EXPECT_NE(e, nullptr);
  return *e;
}

std::vector<std::string> golden_names() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(golden_dir()))
    if (fs::exists(entry.path() / "cases.json")) out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A frame whose columns hold the checkpoint's inputs in reverse order behind an
// unrelated column, so that a test also proves the name -> column mapping.
// The checkpoint a golden directory tests: its own files, or a shipped checkpoint
// named by "checkpoint_dir" (relative to the source tree) in cases.json.
fs::path checkpoint_of(const fs::path& golden) {
  const auto cases = read_json(golden / "cases.json");
  if (cases.contains("checkpoint_dir")) return testing::source_dir() / cases["checkpoint_dir"].get<std::string>();
  return golden;
}

ContextHolder context_for(const fs::path& golden, int64_t window, std::vector<std::string>& inputs) {
  const fs::path dir = checkpoint_of(golden);
  const auto cfg = read_json(dir / "config.json");
  inputs = cfg["input_columns"].get<std::vector<std::string>>();
  std::vector<std::string> extras{"unrelated"};
  extras.insert(extras.end(), inputs.rbegin(), inputs.rend());
  extras.push_back("model.prediction");
  ContextHolder h;
  h.columns = testing::frame_columns(extras);
  h.first_output_column = static_cast<int>(h.columns.size()) - 1;
  h.capacity = window + 8;
  h.params.set("strategy", std::string("unified"));
  h.params.set("window_size", window);
  h.params.set("checkpoint_dir", dir.string());
  return h;
}

// Appends one row with the inputs (in checkpoint order) written into their columns.
void append_inputs(SymbolSeries& s, const ContextHolder& h, const std::vector<std::string>& inputs,
                   const std::vector<double>& values, int64_t ts, double unrelated = 0.0) {
  Bar b;
  b.ts = ts;
  b.close = 1.0;
  auto row = s.append(b);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto it = std::find(h.columns.begin(), h.columns.end(), inputs[i]);
    row[static_cast<size_t>(it - h.columns.begin())] = values[i];
  }
  row[kBarColumns.size()] = unrelated;
}

TEST(BilstmGolden, MatchesPyTorchWithin1e5) {
  const auto names = golden_names();
  ASSERT_GE(names.size(), 5u) << "golden files missing under " << golden_dir();
  // The shipped example checkpoint (examples/models/bilstm_unified) has its own cases.
  EXPECT_NE(std::find(names.begin(), names.end(), "example_bilstm_unified"), names.end());
  int checked = 0;
  double worst = 0;
  for (const auto& name : names) {
    const fs::path dir = golden_dir() / name;
    const auto golden = read_json(dir / "cases.json");
    const int64_t window = golden["window_size"].get<int64_t>();
    std::vector<std::string> inputs;
    auto h = context_for(dir, window, inputs);
    auto model = bilstm_entry().factory(h.context());
    ASSERT_TRUE(model.ok()) << name << ": " << model.error().message;
    EXPECT_EQ((*model)->window(), window);
    // 1e-5 on the network's output: a checkpoint that scales its output down (the
    // example predicts returns, scale ~5e-3) is held to a tighter bound on the prediction.
    const auto cfg = read_json(checkpoint_of(dir) / "config.json");
    const double scale = std::fabs(cfg["output_scaling"]["scale"].get<double>());
    const double tolerance = 1e-5 * std::min(1.0, scale);
    for (const auto& c : golden["cases"]) {
      SymbolSeries s(h.columns.size(), static_cast<size_t>(h.capacity));
      // Older rows that fall out of the window must not matter.
      for (int k = 0; k < 5; ++k) append_inputs(s, h, inputs, std::vector<double>(inputs.size(), 1e6), k);
      int64_t ts = 100;
      for (const auto& row : c["inputs"]) append_inputs(s, h, inputs, row.get<std::vector<double>>(), ts++);
      const double expected = c["expected"].get<double>();
      const double got = (*model)->predict(0, s);
      EXPECT_NEAR(got, expected, tolerance) << name;
      worst = std::max(worst, std::fabs(got - expected) / std::min(1.0, scale));
      ++checked;
    }
  }
  EXPECT_GE(checked, 15);
  RecordProperty("max_abs_error", std::to_string(worst));
  std::printf("golden cases: %d, max |C++ - PyTorch| (network output units) = %.3g\n", checked, worst);
}

TEST(BilstmGolden, NotFullWindowAndNaNInputsGiveNoPrediction) {
  const fs::path dir = golden_dir() / "bi_l1_h16";
  const auto golden = read_json(dir / "cases.json");
  const int64_t window = golden["window_size"].get<int64_t>();
  std::vector<std::string> inputs;
  auto h = context_for(dir, window, inputs);
  auto model = bilstm_entry().factory(h.context());
  ASSERT_TRUE(model.ok()) << model.error().message;
  const auto rows = golden["cases"][0]["inputs"];
  SymbolSeries s(h.columns.size(), static_cast<size_t>(h.capacity));
  for (int64_t t = 0; t + 1 < window; ++t) {
    append_inputs(s, h, inputs, rows[static_cast<size_t>(t)].get<std::vector<double>>(), t);
    EXPECT_TRUE(std::isnan((*model)->predict(0, s))) << "window not full at row " << t;
  }
  // NaN in a column the model does not read: still a prediction.
  append_inputs(s, h, inputs, rows[static_cast<size_t>(window - 1)].get<std::vector<double>>(), window,
                std::nan(""));
  EXPECT_NEAR((*model)->predict(0, s), golden["cases"][0]["expected"].get<double>(), 1e-5);
  // NaN in an input column of the newest row: no prediction for that bar.
  auto bad = rows[0].get<std::vector<double>>();
  bad[1] = std::nan("");
  append_inputs(s, h, inputs, bad, window + 1);
  EXPECT_TRUE(std::isnan((*model)->predict(0, s)));
  // ... nor while that row is still inside the window.
  for (int64_t t = 0; t + 1 < window; ++t) {
    append_inputs(s, h, inputs, rows[0].get<std::vector<double>>(), window + 2 + t);
    EXPECT_TRUE(std::isnan((*model)->predict(0, s)));
  }
  append_inputs(s, h, inputs, rows[0].get<std::vector<double>>(), 2 * window + 2);
  EXPECT_FALSE(std::isnan((*model)->predict(0, s)));
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

// Every code path of the kernel (AVX-512, AVX2, baseline; those the CPU lacks
// fall back to a narrower one) matches PyTorch; the two vector paths agree bit
// for bit, so replays on AVX2 and AVX-512 machines give the same predictions.
TEST(BilstmGolden, EveryKernelPathMatches) {
  for (const auto& name : golden_names()) {
    const fs::path dir = golden_dir() / name;
    const auto golden = read_json(dir / "cases.json");
    const int64_t window = golden["window_size"].get<int64_t>();
    std::vector<std::string> inputs;
    auto h = context_for(dir, window, inputs);
    std::map<std::string, std::vector<double>> results;
    for (const char* kernel : {"avx512", "avx2", "baseline"}) {
      setenv("AF_MODELS_KERNEL", kernel, 1);
      auto model = bilstm_entry().factory(h.context());
      unsetenv("AF_MODELS_KERNEL");
      ASSERT_TRUE(model.ok()) << model.error().message;
      for (const auto& c : golden["cases"]) {
        SymbolSeries s(h.columns.size(), static_cast<size_t>(h.capacity));
        int64_t ts = 0;
        for (const auto& row : c["inputs"]) append_inputs(s, h, inputs, row.get<std::vector<double>>(), ts++);
        const double got = (*model)->predict(0, s);
        EXPECT_NEAR(got, c["expected"].get<double>(), 1e-5) << name << " kernel " << kernel;
        results[kernel].push_back(got);
      }
    }
    for (size_t i = 0; i < results["avx2"].size(); ++i)
      EXPECT_TRUE(same_bits(results["avx2"][i], results["avx512"][i])) << name << " case " << i;
  }
}


void check_batch_identity(const std::string& name, int symbols) {
  const fs::path dir = golden_dir() / name;
  const int64_t window = read_json(dir / "cases.json")["window_size"].get<int64_t>();
  std::vector<std::string> inputs;
  auto h = context_for(dir, window, inputs);
  h.symbols.clear();
  for (int i = 0; i < symbols; ++i) {
    std::string symbol = "S";
    symbol += std::to_string(i);
    h.symbols.push_back(symbol);
  }
  auto model = bilstm_entry().factory(h.context());
  ASSERT_TRUE(model.ok()) << model.error().message;
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(0.0, 3.0);
  std::vector<SymbolSeries> series;
  series.reserve(static_cast<size_t>(symbols));
  for (int i = 0; i < symbols; ++i) {
    series.emplace_back(h.columns.size(), static_cast<size_t>(h.capacity));
    const int64_t rows = window + (i % 3);
    for (int64_t t = 0; t < rows; ++t) {
      std::vector<double> v(inputs.size());
      for (auto& x : v) x = normal(rng);
      if (i % 17 == 5 && t == rows - 1) v[0] = std::nan("");  // some symbols have no prediction
      append_inputs(series.back(), h, inputs, v, t);
    }
  }
  std::vector<double> single(static_cast<size_t>(symbols));
  for (int i = 0; i < symbols; ++i) single[static_cast<size_t>(i)] = (*model)->predict(static_cast<SymbolId>(i), series[static_cast<size_t>(i)]);
  // Every batch size from 1 to 11 and the whole universe at once.
  for (int width : {1, 2, 3, 4, 5, 7, 8, 9, 11, symbols}) {
    for (int start = 0; start < symbols; start += width) {
      const int n = std::min(width, symbols - start);
      std::vector<SymbolId> ids;
      std::vector<const SymbolSeries*> ptrs;
      for (int i = start; i < start + n; ++i) {
        ids.push_back(static_cast<SymbolId>(i));
        ptrs.push_back(&series[static_cast<size_t>(i)]);
      }
      std::vector<double> out(static_cast<size_t>(n), -1.0);
      (*model)->predict_batch(ids, ptrs, out);
      for (int i = 0; i < n; ++i)
        ASSERT_TRUE(same_bits(out[static_cast<size_t>(i)], single[static_cast<size_t>(start + i)]))
            << name << " batch width " << width << " symbol " << start + i << ": " << out[static_cast<size_t>(i)]
            << " vs " << single[static_cast<size_t>(start + i)];
    }
  }
  int nans = 0;
  for (double v : single) nans += std::isnan(v);
  int expected_nans = 0;
  for (int i = 0; i < symbols; ++i) expected_nans += i % 17 == 5;
  EXPECT_EQ(nans, expected_nans);
}

TEST(BilstmBatch, Batch200EqualsSingleBitForBit) {
  for (const auto& name : golden_names()) check_batch_identity(name, 200);
}

TEST(BilstmBatch, SameOnTheNarrowerKernels) {
  for (const char* kernel : {"avx2", "baseline"}) {
    setenv("AF_MODELS_KERNEL", kernel, 1);
    for (const auto& name : {"uni_l2_h10", "bi_l2_h24", "example_bilstm_unified"}) check_batch_identity(name, 40);
    unsetenv("AF_MODELS_KERNEL");
  }
}

}  // namespace
}  // namespace af::models
