#pragma once
// Reads the state_dict out of a file written by torch.save (the zip format of
// PyTorch >= 1.6: `<stem>/data.pkl`, a pickle of the saved object whose tensors
// refer by persistent id to raw little-endian storages `<stem>/data/<key>`).
// The saved object is a state_dict, or a dict holding one under "state_dict",
// "model_state_dict" or "model" (looked for in that order) beside other entries
// (epoch, optimizer state, hyper-parameters), which are parsed but not kept.
// The pickle goes through the restricted unpickler: only dicts, OrderedDict,
// lists, tuples, numbers, strings, None/bools and tensors rebuilt by
// torch._utils._rebuild_tensor_v2 from Float/Double/Half/BFloat16 storages;
// anything else is an error naming it and the file, and no code is run. Every
// size is checked before it is allocated or indexed. Start-up only, one thread.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "models/loaded_tensor.hpp"

namespace af::models {

struct TorchLimits {
  uint64_t max_pickle_bytes = 64ull << 20;    // data.pkl: structure only, tensor data lives elsewhere
  uint64_t max_storage_bytes = 1ull << 30;    // one storage entry
  uint64_t max_total_bytes = 2ull << 30;      // every storage the state_dict uses
  int64_t max_tensor_elements = 1ll << 28;    // one tensor, after its view (a stride-0 view can exceed its storage)
  size_t max_dims = 16;
};

struct TorchStateDict {
  std::map<std::string, LoadedTensor> tensors;  // names as saved
  std::string key;                              // where it was: "" (the file is the state_dict) or the dict key
  std::vector<std::string> other_keys;          // the entries beside it, for the log
};

Result<TorchStateDict> read_torch_state_dict(const std::string& path, const TorchLimits& limits = {});

}  // namespace af::models
