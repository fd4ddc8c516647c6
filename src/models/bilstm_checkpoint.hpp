#pragma once
// Loads a BiLSTM checkpoint directory (the format is in docs/models.md):
// `config.json` (architecture, input columns in order, normalisation, output
// scaling, version) and `weights.safetensors` (PyTorch state_dict names and
// layout). Every inconsistency between the two is an error here, at start-up.
// Used by the model factory on the thread that builds the pipeline.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "models/lstm_net.hpp"

namespace af::models {

// The checkpoint format version this build reads.
inline constexpr int kBilstmFormatVersion = 1;

struct BilstmCheckpoint {
  std::string dir;
  LstmShape shape;
  std::vector<std::string> input_columns;  // size shape.input_size
  std::vector<double> mean;                // per column; x' = (x - mean) / std
  std::vector<double> std_dev;
  double output_scale = 1.0;  // prediction = head * scale + offset
  double output_offset = 0.0;
  std::optional<int64_t> window_size;  // the window it was trained on, if recorded
  std::unique_ptr<LstmNet> net;
};

// `max_steps`: the window the model will run with; `max_group`: the most samples
// per forward() call (see LstmNet). Both size the network's scratch.
Result<BilstmCheckpoint> load_bilstm_checkpoint(const std::string& dir, int max_steps,
                                                int max_group = LstmNet::kMaxGroup);

}  // namespace af::models
