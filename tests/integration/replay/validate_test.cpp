// `validate` refuses what a start would refuse, located (issue 18, trap 2), and
// never loads a plugin (issue 12, item 10): the alpha_forge binary on pipelines
// written here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A one-symbol pipeline; `model` is the model step's body and `head` goes before
// signal_generation (for `using:`).
std::string pipeline(const std::string& model, const std::string& head = "",
                     const std::string& sink = "{using: sinks.csv_append, params: {path: out/p.csv}}") {
  return "name: v\n" + head + R"(signal_generation:
  warmup: {lookback_days: 2}
  scheduling: {interval: 1h}
  on_prediction:
    - )" + sink + R"(
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params: {universe: [BTCUSDT], interval: 1h}
  - features:
      using: features.momentum
      inputs: {column: ohlcv.close}
      outputs: {columns: [mom_3]}
      params: {window: 3}
  - model:
)" + model;
}

const std::string kLinear = R"(      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [pred]}
      params: {features: [mom_33], weights: [1.0]}
)";

class Validate : public ::testing::Test {
 protected:
  testing::CommandResult validate(const std::string& yaml, const std::string& flags = "") {
    write_file(dir_ / "p.yaml", yaml);
    return run_command("cd / && " + kBinary + " validate " + (dir_ / "p.yaml") + " " + flags);
  }
  TempDir dir_;
};

TEST_F(Validate, LinearFeatureNoStepProducesIsLocated) {
  auto r = validate(pipeline(kLinear));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, dir_ / "p.yaml" + ":17:5: error: pipeline[2].model: models.linear: input column 'mom_33' "
                                                "is not a column of the model's frame (did you mean 'mom_3'?)\n"))
      << r.err;
}

TEST_F(Validate, JsonPrintsTheErrorsToo) {
  auto r = validate(pipeline(kLinear), "--json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.out, "\"valid\": false")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"path\": \"pipeline[2].model\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"line\": 17")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"message\": \"models.linear: input column 'mom_33' is not a column of the model's "
                              "frame (did you mean 'mom_3'?)\""))
      << r.out;
}

TEST_F(Validate, MissingCheckpointIsLocated) {
  auto r = validate(pipeline(R"(      using: models.pytorch_bilstm_predictor
      inputs: {frame: ohlcv}
      outputs: {columns: [pred]}
      params: {strategy: unified, window_size: 3, output_col: pred, checkpoint_dir: )" +
                             (dir_ / "no_such_checkpoint") + "}\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, dir_ / "p.yaml" + ":17:5: error: pipeline[2].model: models.pytorch_bilstm_predictor: "
                                                "checkpoint_dir '" + (dir_ / "no_such_checkpoint") +
                                  "' is not a directory\n"))
      << r.err;
}

// Issue 18, trap 2: a param error does not hide the compiler's errors; both are
// printed, located, in one run, and --json lists both.
TEST_F(Validate, EveryStagesErrorsInOneRun) {
  std::string yaml = pipeline(R"(      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [pred]}
      params: {features: [mom_3], weights: [1.0]}
  - features:
      using: features.rsi
      inputs: {column: ohlcv.clse}
      outputs: {columns: [rsi_14]}
      params: {window: 14}
)");
  yaml.replace(yaml.find("params: {window: 3}"), 19, "params: {window: 0}");
  auto r = validate(yaml);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, dir_ / "p.yaml" + ":16:24: error: pipeline[1].features.params.window: param 'window' must be "
                                     "between 1 and 100000, got 0\n" +
                       dir_ / "p.yaml" + ":24:24: error: pipeline[3].features.inputs.column: unknown column 'clse' of "
                                         "frame 'ohlcv' (did you mean 'close'?)\n" +
                       dir_ / "p.yaml" + ": 2 errors\n");
  auto j = validate(yaml, "--json");
  EXPECT_EQ(j.exit_code, 2);
  const auto json = nlohmann::json::parse(j.out);
  ASSERT_EQ(json["errors"].size(), 2u) << j.out;
  EXPECT_EQ(json["errors"][0]["path"], "pipeline[1].features.params.window");
  EXPECT_EQ(json["errors"][1]["path"], "pipeline[3].features.inputs.column");
  EXPECT_EQ(json["errors"][1]["line"], 24);
}

// Issue 16 item 3: validate opens checkpoint_dir and checks what the model would
// load (files, shapes, window, input columns against the frame), without running
// it; each problem is an error at the model step (exit 2). The shipped example
// checkpoint, copied and damaged one way per test.
class ValidateCheckpoint : public Validate {
 protected:
  void SetUp() override {
    const char* src = std::getenv("AF_SOURCE_DIR");
    const std::string root = src ? src : AF_SOURCE_ROOT;
    std::filesystem::copy(root + "/examples/models/bilstm_unified", ck_);
    yaml_ = read_file(root + "/examples/models/bilstm_example.yaml");
    yaml_ = replace(yaml_, "checkpoint_dir: examples/models/bilstm_unified", "checkpoint_dir: " + ck_);
    yaml_ = replace(yaml_, "path: outputs/predictions/bilstm_example.csv", "path: " + (dir_ / "out.csv"));
    // The model step's line: errors are located there.
    const size_t at = yaml_.find("  - model:");
    model_line_ = 1 + std::count(yaml_.begin(), yaml_.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  }
  static std::string replace(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  }
  // The error validate must print for the model step, and only it.
  void expect_model_error(const std::string& message, const std::string& yaml = "") {
    auto r = validate(yaml.empty() ? yaml_ : yaml);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(contains(r.err, dir_ / "p.yaml" + ":" + std::to_string(model_line_) +
                                    ":5: error: pipeline[6].model: models.pytorch_bilstm_predictor" + message + "\n"))
        << r.err;
    EXPECT_TRUE(contains(r.err, "p.yaml: 1 error\n")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "out.csv"));
  }
  void edit_config(const std::string& from, const std::string& to) {
    write_file(ck_ + "/config.json", replace(read_file(ck_ + "/config.json"), from, to));
  }
  std::string ck_ = dir_ / "ck";
  std::string yaml_;
  size_t model_line_ = 0;
};

TEST_F(ValidateCheckpoint, TheIntactCopyValidates) {
  auto r = validate(yaml_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ValidateCheckpoint, MissingWeightsFile) {
  std::filesystem::remove(ck_ + "/weights.safetensors");
  expect_model_error(": " + ck_ + "/weights.safetensors: cannot open");
}

TEST_F(ValidateCheckpoint, MissingConfigFile) {
  std::filesystem::remove(ck_ + "/config.json");
  expect_model_error(": " + ck_ + "/config.json: cannot open");
}

TEST_F(ValidateCheckpoint, CorruptWeightsFile) {
  const std::string weights = read_file(ck_ + "/weights.safetensors");
  write_file(ck_ + "/weights.safetensors", weights.substr(0, weights.size() / 2));
  expect_model_error(": " + ck_ +
                     "/weights.safetensors: tensor 'lstm.weight_ih_l0': data_offsets [18564, 23428) outside the data "
                     "(21606 bytes): truncated or corrupt file");
}

TEST_F(ValidateCheckpoint, CorruptConfigFile) {
  write_file(ck_ + "/config.json", "{\"version\": 1, ");
  expect_model_error(": " + ck_ +
                     "/config.json: not valid JSON: [json.exception.parse_error.101] parse error at line 1, column 16: "
                     "syntax error while parsing object key - unexpected end of input; expected string literal");
}

TEST_F(ValidateCheckpoint, ShapeMismatch) {
  edit_config("\"hidden_size\": 16", "\"hidden_size\": 12");
  expect_model_error(": " + ck_ +
                     "/weights.safetensors: tensor 'lstm.weight_ih_l0' has shape [64, 19] but config.json implies "
                     "[48, 19]");
}

TEST_F(ValidateCheckpoint, WindowMismatch) {
  expect_model_error(": window_size 20 but the checkpoint in '" + ck_ + "' was trained on windows of 30 rows",
                     replace(yaml_, "window_size: 30", "window_size: 20"));
}

TEST_F(ValidateCheckpoint, InputColumnTheFrameLacks) {
  edit_config("\"mom12\"", "\"mom24\"");
  expect_model_error(" (checkpoint '" + ck_ + "'): input column 'mom24' is not a column of the model's frame (did "
                     "you mean 'mom4'?)");
}

TEST_F(Validate, BareColumnNameSuggestsTheFrame) {
  std::string yaml = pipeline(kLinear);
  yaml.replace(yaml.find("column: ohlcv.close"), 19, "column: close");
  auto r = validate(yaml);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "error: pipeline[1].features.inputs.column: expects 'frame.column', got 'close' (did "
                              "you mean 'ohlcv.close'?)"))
      << r.err;
}

TEST_F(Validate, PluginPathNeedsASlash) {
  auto r = validate(pipeline(kLinear, "using:\n  plugins: [libmarker.so]\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, dir_ / "p.yaml" + ":3:13: error: using.plugins[0]: plugin path 'libmarker.so' must "
                                                "contain a '/' (a bare name would be searched on the loader's library "
                                                "path); write './libmarker.so' for a file in the pipeline's folder\n"))
      << r.err;
}

TEST_F(Validate, MissingPluginIsRelativeToThePipelinesFolder) {
  auto r = validate(pipeline(kLinear, "using:\n  plugins: [./plugins/nope.so]\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, dir_ / "p.yaml" + ":3:13: error: using.plugins[0]: no plugin file " + (dir_ / "") +
                                  "./plugins/nope.so (relative paths are relative to the pipeline's folder)\n"))
      << r.err;
}

// validate checks the plugin file exists and never loads it; replay, run from
// another working directory, finds it beside the pipeline and loads it.
TEST_F(Validate, NeverLoadsAPluginButReplayDoes) {
  std::filesystem::create_directories(dir_ / "plugins");
  std::filesystem::copy_file(AF_TEST_MARKER_PLUGIN, dir_ / "plugins/marker.so");
  const std::string marker = dir_ / "loaded";
  const std::string yaml =
      pipeline(R"(      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [pred]}
      params: {features: [mom_3], weights: [1.0]}
)",
               "using:\n  plugins: [./plugins/marker.so]\n",
               "{using: sinks.jsonl, params: {path: " + (dir_ / "out.jsonl") + "}}");
  const std::string env = "AF_TEST_PLUGIN_MARKER=" + marker + " ";
  write_file(dir_ / "p.yaml", yaml);
  auto v = run_command("cd / && " + env + kBinary + " validate " + (dir_ / "p.yaml"));
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_TRUE(contains(v.err, "warning: signal_generation.on_prediction[0].using: 'sinks.jsonl' is not a built-in "
                              "sink: if a plugin of using.plugins provides it, its params are checked when replay or "
                              "signal loads the plugin (validate never loads plugins)"))
      << v.err;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "validate loaded the plugin";

  ASSERT_EQ(run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                        " --symbols BTCUSDT --interval 1h --from 2025-01-01 --to 2025-01-10")
                .exit_code,
            0);
  auto r = run_command("cd / && " + env + kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(marker));
  EXPECT_FALSE(read_file(dir_ / "out.jsonl").empty());
}

TEST(Version, EveryCommandPrintsIt) {
  for (const std::string cmd : {"", " validate", " replay", " signal", " plugins", " synth-data", " sim-exchange"}) {
    auto r = run_command(kBinary + cmd + " --version");
    EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    EXPECT_EQ(r.out, "alpha_forge 0.1.0\n") << cmd;
  }
}

}  // namespace
}  // namespace af

namespace af {
namespace {

// Issue 16 item 3: `signal` requires on_prediction as the original does;
// `validate` and `replay --dump` run without it, with a warning.
const std::string kWithoutSinks = R"(name: nosinks
signal_generation:
  warmup: {lookback_days: 3}
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params: {universe: [AAAUSDT], interval: 1h}
  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [pred]}
      params: {features: [close], weights: [1.0]}
)";

const std::string kNoSinksWarning =
    "p.yaml:2:1: warning: signal_generation.on_prediction: no sinks: `signal` refuses to run without one (the "
    "original requires on_prediction); `validate` and `replay --dump` run without";

TEST(NoSinks, ValidateWarnsSignalAndPlainReplayRefuseReplayDumpRuns) {
  TempDir dir;
  write_file(dir / "p.yaml", kWithoutSinks);
  auto v = run_command("cd " + dir.path().string() + " && " + kBinary + " validate p.yaml");
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_TRUE(contains(v.out, kNoSinksWarning)) << v.out << v.err;

  auto s = run_command("cd " + dir.path().string() + " && " + kBinary + " signal p.yaml");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_TRUE(contains(s.err, "p.yaml:2:1: error: signal_generation.on_prediction: `signal` needs at least one sink "
                              "(the original requires on_prediction); `validate` and `replay --dump` run without"))
      << s.err;

  ASSERT_EQ(run_command(kBinary + " synth-data --out " + (dir / "mirror") +
                        " --symbols AAAUSDT --interval 1h --from 2025-01-01 --to 2025-01-10 --seed 5")
                .exit_code,
            0);
  const std::string replay = "cd " + dir.path().string() + " && " + kBinary + " replay p.yaml --data mirror";
  auto plain = run_command(replay);
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_TRUE(contains(plain.err, "p.yaml:2:1: error: signal_generation.on_prediction: `replay` needs at least one "
                                  "sink (the original requires on_prediction); give --dump FRAME=PATH or "
                                  "--print to run without"))
      << plain.err;
  // The flag the message names exists (it once named --print-predictions, which the CLI refused).
  auto print = run_command(replay + " --print");
  EXPECT_EQ(print.exit_code, 0) << print.err;
  EXPECT_TRUE(contains(print.out, "2025-01-04T00:00:00Z AAAUSDT ")) << print.out;
  auto dump = run_command(replay + " --dump ohlcv=" + (dir / "dump.csv"));
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_GT(read_file(dir / "dump.csv").size(), 100u);
}

}  // namespace
}  // namespace af
