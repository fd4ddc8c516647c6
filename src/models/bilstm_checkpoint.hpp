#pragma once
// Loads a BiLSTM checkpoint (the formats are in docs/models.md): a JSON of
// architecture, input columns in order, normalisation, output scaling and
// version, and the weights with PyTorch's state_dict names and layout, either
// the portable export (`config.json` + `weights.safetensors`) or a torch.save
// file with its `<stem>.json` (whose architecture may be left out: the tensor
// shapes give it). Every inconsistency between the two is an error here, at
// start-up. Used by the model factory on the thread that builds the pipeline.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "models/checkpoint_locator.hpp"
#include "models/lstm_net.hpp"

namespace af::models {

// The checkpoint format version this build reads.
inline constexpr int kBilstmFormatVersion = 1;

struct BilstmCheckpoint {
  CheckpointFiles files;
  std::string state_dict_key;  // torch.save files: where the state_dict was ("" bare)
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
Result<BilstmCheckpoint> load_bilstm_checkpoint(const CheckpointFiles& files, int max_steps,
                                                int max_group = LstmNet::kMaxGroup);

}  // namespace af::models
