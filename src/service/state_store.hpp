#pragma once
// StateStore: the live service's state directory (`signal --state-dir DIR`).
// It holds the operator snapshot (`snapshot.bin`: the engine's frames, feature
// states, processed-event tracker and emitter high-water marks, plus the anchor),
// the sinks' spool files (`spool/`) and the Binance Vision cache (`vision-cache/`).
//
// A snapshot is written atomically (temporary file, fsync, rename, fsync of the
// directory), so a crash leaves the previous snapshot or the new one, never half
// of one. It carries a fingerprint of the compiled plan: a snapshot of another
// pipeline is refused (the service then warms up afresh, with a warning).
// Owned by the live driver; used from its compute thread.

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "dag/plan.hpp"

namespace af::service {

struct Snapshot {
  int64_t anchor = 0;    // A of the run that made it: it stays A across restarts
  int64_t written_at = 0;  // wall clock, ms
  std::string engine_state;  // Engine::save bytes
};

class StateStore {
 public:
  // Creates DIR (and its parents) if needed. Errors name the directory.
  static Result<StateStore> open(const std::string& dir, const dag::Plan& plan);

  const std::string& dir() const { return dir_; }
  std::string spool_dir() const { return dir_ + "/spool"; }
  std::string vision_cache_dir() const { return dir_ + "/vision-cache"; }
  std::string snapshot_path() const { return dir_ + "/snapshot.bin"; }

  // nullopt when there is no snapshot; an Error when there is one that cannot be
  // used (corrupt, truncated, another pipeline), naming the file and the reason.
  Result<std::optional<Snapshot>> load() const;
  Status save(const Snapshot& snapshot) const;

  // What identifies a plan's state layout and outputs: its printed form (steps,
  // params, frames, columns, universe), hashed; secrets are redacted there, and
  // the pipeline file's path is left out (`./p.yaml`, `p.yaml` or the same file
  // moved is the same plan).
  static uint64_t fingerprint(const dag::Plan& plan);
  // What identifies the predictions a plan computes: the same, without its sinks
  // (their endpoints, credentials, paths and plugins change where predictions
  // go, not what they are). A sink that keeps its output across runs records it.
  static uint64_t predictions_fingerprint(const dag::Plan& plan);

 private:
  StateStore(std::string dir, uint64_t fingerprint) : dir_(std::move(dir)), fingerprint_(fingerprint) {}
  std::string dir_;
  uint64_t fingerprint_ = 0;
};

}  // namespace af::service
