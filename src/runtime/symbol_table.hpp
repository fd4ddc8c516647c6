#pragma once
// SymbolTable: the universe as dense ids. Fixed at start-up (the union of every
// data step's universe, in order of first appearance), so names can be handed
// out as stable `const std::string*` to records and sinks.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "frame/frame.hpp"

namespace af {

class SymbolTable {
 public:
  SymbolTable() = default;
  explicit SymbolTable(const std::vector<std::string>& names) {
    for (const auto& n : names) add(n);
  }

  SymbolId add(const std::string& name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<SymbolId>(names_.size());
    names_.push_back(name);
    ids_.emplace(name, id);
    return id;
  }
  std::optional<SymbolId> find(std::string_view name) const {
    auto it = ids_.find(std::string(name));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  const std::string& name(SymbolId id) const { return names_[id]; }
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, SymbolId> ids_;
};

}  // namespace af
