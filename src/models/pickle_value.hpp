#pragma once
// The values the restricted unpickler (unpickler.hpp) builds: Python's scalars
// and containers, plus three inert forms for what the caller's policy allows:
// a global (a class or function named "module.name", never imported), a call of
// an allowed global with its arguments (REDUCE, recorded, never executed) and a
// persistent id (torch's reference to a tensor storage). Values are owned by a
// PickleDocument and point at each other, so the memo's shared and even cyclic
// references cost nothing to free. Built and read on one thread at start-up.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace af::models {

enum class PickleKind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kCall, kPersistentId };

struct PickleValue {
  PickleKind kind = PickleKind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                  // kString, kBytes; kGlobal: "module.name"
  std::vector<PickleValue*> items;   // kTuple, kList; kCall: {global, args tuple}; kPersistentId: {id}
  std::vector<std::pair<PickleValue*, PickleValue*>> entries;  // kDict, in insertion order

  bool is_string(std::string_view s) const { return kind == PickleKind::kString && text == s; }

  // kDict: the value under string key `key`, or nullptr.
  const PickleValue* find(std::string_view key) const {
    for (const auto& [k, v] : entries)
      if (k->is_string(key)) return v;
    return nullptr;
  }
};

// Python's name for a value's type, for error messages: "int", "dict", "global torch.FloatStorage".
inline std::string pickle_type_name(const PickleValue& v) {
  switch (v.kind) {
    case PickleKind::kNone: return "None";
    case PickleKind::kBool: return "bool";
    case PickleKind::kInt: return "int";
    case PickleKind::kFloat: return "float";
    case PickleKind::kString: return "str";
    case PickleKind::kBytes: return "bytes";
    case PickleKind::kTuple: return "tuple";
    case PickleKind::kList: return "list";
    case PickleKind::kDict: return "dict";
    case PickleKind::kGlobal: return "global " + v.text;
    case PickleKind::kCall: return "call of " + v.items[0]->text;
    case PickleKind::kPersistentId: return "persistent id";
  }
  return "?";
}

// The type with its article, for "is an int" / "is None" in error messages.
inline std::string pickle_described(const PickleValue& v) {
  if (v.kind == PickleKind::kNone) return "None";
  const std::string name = pickle_type_name(v);
  return (v.kind == PickleKind::kInt ? "an " : "a ") + name;
}

// Every value of one unpickled stream; `root` is what STOP returned.
struct PickleDocument {
  std::vector<std::unique_ptr<PickleValue>> values;
  const PickleValue* root = nullptr;
};

}  // namespace af::models
