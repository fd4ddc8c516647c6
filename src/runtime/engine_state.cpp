#include "runtime/engine_state.hpp"

#include <set>

namespace af {

void write_engine_state(const EngineState& state, StateWriter& w) {
  w.put_string(state.pipeline);
  w.put<uint64_t>(state.frames);
  w.put_string(state.shared);
  w.put<uint64_t>(state.symbols.size());
  for (const auto& [name, part] : state.symbols) {
    w.put_string(name);
    w.put_string(part);
  }
}

Result<EngineState> read_engine_state(StateReader& r) {
  EngineState state;
  state.pipeline = r.get_string();
  state.frames = r.get<uint64_t>();
  state.shared = r.get_string();
  const auto count = r.get<uint64_t>();
  if (r.failed()) return make_error("snapshot is truncated");
  // Each symbol takes at least its two length prefixes: a count the bytes left
  // cannot hold is damage, refused before anything is reserved for it.
  if (count > r.remaining() / 16) return make_error("snapshot is truncated (" + std::to_string(count) + " symbols)");
  state.symbols.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string name = r.get_string();
    std::string part = r.get_string();
    if (r.failed()) return make_error("snapshot is truncated");
    state.symbols.emplace_back(std::move(name), std::move(part));
  }
  return state;
}

Result<std::string> join_engine_states(const std::vector<std::string>& parts) {
  EngineState joined;
  std::set<std::string> seen;
  for (size_t i = 0; i < parts.size(); ++i) {
    StateReader r(parts[i]);
    auto state = read_engine_state(r);
    if (!state) return state.error();
    if (!state->shared.empty()) return make_error("a snapshot with state relating symbols cannot be joined");
    if (i == 0) {
      joined.pipeline = state->pipeline;
      joined.frames = state->frames;
    } else if (state->pipeline != joined.pipeline || state->frames != joined.frames) {
      return make_error("snapshots of different pipelines cannot be joined");
    }
    for (auto& entry : state->symbols) {
      if (!seen.insert(entry.first).second) return make_error("symbol " + entry.first + " is in two snapshots");
      joined.symbols.push_back(std::move(entry));
    }
  }
  StateWriter w;
  write_engine_state(joined, w);
  return w.take();
}

}  // namespace af
