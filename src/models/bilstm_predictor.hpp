#pragma once
// models.pytorch_bilstm_predictor: a PyTorch (bi)LSTM + linear head, exported by
// tools/export_bilstm.py, run natively over the last window_size rows.

#include "runtime/model.hpp"

namespace af::models {

// Adds `models.pytorch_bilstm_predictor` to `registry`.
void register_bilstm_predictor(ModelRegistry& registry);

}  // namespace af::models
