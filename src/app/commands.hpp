#pragma once
// The alpha_forge commands. Each returns the process exit code: 0 success,
// 1 runtime failure (I/O, data), 2 invalid pipeline or usage.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dag/plan.hpp"
#include "runtime/plugin_set.hpp"

namespace af::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitInvalid = 2;

// Parses, expands and compiles FILE; prints every diagnostic (errors and
// warnings) to stderr. nullopt when there were errors.
std::optional<dag::Plan> load_plan(const std::string& file, const PluginSet& plugins);

struct ValidateArgs {
  std::string file;
  bool json = false;
};
int run_validate(const ValidateArgs& args);

struct ReplayArgs {
  std::string file;
  std::string data_dir;
  std::string from;  // ISO-8601, "" = default
  std::string to;
  std::vector<std::string> dumps;  // FRAME=PATH
};
int run_replay_command(const ReplayArgs& args);

struct PluginsArgs {
  bool json = false;
  bool markdown = false;
};
int run_plugins(const PluginsArgs& args);

struct SynthDataArgs {
  std::string out;
  std::vector<std::string> symbols;
  std::string interval = "1h";
  std::string from;
  std::string to;
  uint64_t seed = 42;
};
// Writes a seeded synthetic Binance Vision mirror (futures layout) for offline runs.
int run_synth_data(const SynthDataArgs& args);

}  // namespace af::app
