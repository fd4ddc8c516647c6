#pragma once
// EngineState: the layout of an engine snapshot (Engine::save/load), keyed by
// symbol name so that it does not depend on how the symbols were split over
// engines. `signal --threads N` saves each thread's engine, joins the parts into
// one snapshot (join_engine_states), and a restart with M threads gives every
// engine the whole snapshot: each loads its own symbols' parts.
//
//   string   pipeline name
//   u64      frames
//   string   shared: state relating symbols (align), "" when there is none
//   u64      symbols
//   symbols x (string name, string part)
//
// Strings are length-prefixed (common/state_archive.hpp). Any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "common/state_archive.hpp"

namespace af {

struct EngineState {
  std::string pipeline;
  uint64_t frames = 0;
  std::string shared;
  std::vector<std::pair<std::string, std::string>> symbols;  // (name, that symbol's part)
};

void write_engine_state(const EngineState& state, StateWriter& w);
// Errors: "snapshot is truncated", a symbol count beyond what the bytes can hold.
Result<EngineState> read_engine_state(StateReader& r);

// The snapshots of engines over disjoint parts of one universe as one: their
// symbols' parts together (in the order given). Each must be a whole snapshot
// of the same pipeline without shared state; an error names what differs.
Result<std::string> join_engine_states(const std::vector<std::string>& parts);

}  // namespace af
