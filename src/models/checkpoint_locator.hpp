#pragma once
// Which files of a checkpoint directory make the model: the portable export
// (`config.json` + `weights.safetensors`) or a file torch.save wrote
// (`<stem>.pt` / `<stem>.pth`) with its metadata `<stem>.json`. The rule, also in
// docs/models.md:
//   1. a stem is given (model_ref `name.strategy` gives `name`) and `<stem>.pt`
//      or `<stem>.pth` exists: that file;
//   2. else `config.json` exists, or no `.pt`/`.pth` file does: the portable export;
//   3. else the directory holds exactly one `.pt`/`.pth` file: that file;
//   4. else (several) an error listing them.
// Used by the model factory at start-up.

#include <optional>
#include <string>

#include "common/result.hpp"

namespace af::models {

enum class CheckpointFormat { kSafetensors, kTorchSave };

struct CheckpointFiles {
  CheckpointFormat format = CheckpointFormat::kSafetensors;
  std::string dir;
  std::string config;   // config.json, or the torch.save file's <stem>.json
  std::string weights;  // weights.safetensors, or the torch.save file
};

Result<CheckpointFiles> locate_checkpoint(const std::string& dir, const std::optional<std::string>& stem);

}  // namespace af::models
