#pragma once
// Engine::StepRuntime: the operators of one step as the Engine runs them. Private
// to the Engine's files (engine.cpp, engine_batch.cpp); compute thread.

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/engine.hpp"

namespace af {

struct Engine::StepRuntime {
  const dag::StepPlan* plan = nullptr;
  registry::PluginKind kind = registry::PluginKind::kFeature;
  std::vector<std::unique_ptr<Feature>> features;  // per symbol
  FeatureRegistry::Factory feature_factory;        // re-creates a symbol's feature (reset_symbol)
  std::vector<uint8_t> started;                    // per symbol: first valid input seen
  std::unique_ptr<Model> model;
  std::unique_ptr<Transform> transform;
  std::vector<int> input_columns;  // on plan->frame
  int first_output = -1;           // first output column on plan->frame
  int output_count = 0;
  // Model batching: this model step defers its rows to flush_models() (its model
  // prefers batches and no transform follows it in its flow).
  bool batchable = false;
};

}  // namespace af
