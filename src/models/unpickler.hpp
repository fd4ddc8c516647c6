#pragma once
// A restricted reader of Python pickles (protocols 2 to 5) for data files such
// as torch.save's data.pkl. It understands the opcodes that containers, numbers,
// strings, None and bools are written with, and nothing that constructs objects:
// a GLOBAL outside the caller's allow-list, a REDUCE of anything but an allowed
// callable, NEWOBJ, INST, extension codes, out-of-band buffers are each an
// error naming the opcode or the global and the byte offset. No Python code is
// ever run: an allowed call is recorded as a kCall value for the caller to
// interpret. Every resource is bounded (values, stack, open MARKs, memo); the
// input's own size is the caller's bound. One thread, at start-up.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "models/pickle_value.hpp"

namespace af::models {

struct PickleLimits {
  size_t max_values = 1'000'000;  // values built (each opcode builds at most one; checked before the next)
  size_t max_stack = 100'000;     // entries on the unpickling stack
  size_t max_marks = 1'000;       // MARKs open at once
  size_t max_memo = 1'000'000;    // memo entries
};

struct PicklePolicy {
  // Globals ("module.name") that REDUCE may apply; the call is recorded, never run.
  std::vector<std::string> callables;
  // Globals that may appear as values (e.g. the storage classes in torch's persistent ids).
  std::vector<std::string> classes;
  PickleLimits limits;
};

// collections.OrderedDict is always allowed: called with no arguments it is an
// empty dict, and BUILD on a dict (a state_dict's `_metadata` attribute) is
// accepted and dropped.
inline constexpr const char* kOrderedDict = "collections.OrderedDict";

// Parses `bytes` up to its STOP opcode; `where` names the stream in messages
// ("model.pt: archive/data.pkl").
Result<PickleDocument> unpickle(std::span<const uint8_t> bytes, const PicklePolicy& policy, const std::string& where);

}  // namespace af::models
