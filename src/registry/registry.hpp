#pragma once
// Registry<Product, Context, Extra>: the one shape every plugin kind is
// registered in: a Descriptor plus a factory that builds the kind's product from
// a context (validated params and whatever else that kind needs), plus what else
// that kind's entries say (Extra: data plugins, how to build their live feed).
// Catalog is the implementation-free view the DSL and the compiler validate against.

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "registry/descriptor.hpp"

namespace af::registry {

// The Extra of a kind whose entries say nothing more.
struct NoExtra {};

template <class Product, class Context, class Extra = NoExtra>
class Registry {
 public:
  using Factory = std::function<Result<std::unique_ptr<Product>>(const Context&)>;

  struct Entry {
    Descriptor descriptor;
    Factory factory;
    Extra extra;
  };

  void add(Descriptor descriptor, Factory factory, Extra extra = {}) {
    entries_.push_back(std::make_unique<Entry>(Entry{std::move(descriptor), std::move(factory), std::move(extra)}));
  }

  const Entry* find(std::string_view name) const {
    for (const auto& e : entries_)
      if (e->descriptor.name == name) return e.get();
    return nullptr;
  }

  const std::vector<std::unique_ptr<Entry>>& entries() const { return entries_; }

  std::vector<const Descriptor*> descriptors() const {
    std::vector<const Descriptor*> out;
    for (const auto& e : entries_) out.push_back(&e->descriptor);
    return out;
  }

 private:
  // unique_ptr keeps descriptor addresses stable for Catalog.
  std::vector<std::unique_ptr<Entry>> entries_;
};

// Every descriptor of every kind, looked up by name.
class Catalog {
 public:
  void add(const Descriptor* d) { items_.push_back(d); }
  void add_all(const std::vector<const Descriptor*>& ds) {
    for (auto* d : ds) add(d);
  }

  const Descriptor* find(std::string_view name) const {
    for (auto* d : items_)
      if (d->name == name) return d;
    return nullptr;
  }

  // Names of one kind, sorted (for "did you mean" and listings).
  std::vector<std::string> names(PluginKind kind) const {
    std::vector<std::string> out;
    for (auto* d : items_)
      if (d->kind == kind) out.push_back(d->name);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> all_names() const {
    std::vector<std::string> out;
    for (auto* d : items_) out.push_back(d->name);
    std::sort(out.begin(), out.end());
    return out;
  }

  const std::vector<const Descriptor*>& all() const { return items_; }

  // `validate` checks that sink plugins exist but never loads them (loading runs
  // their code): their sinks are then unknown here, and a sink name the catalog
  // lacks is reported as unchecked rather than as an error.
  void set_sink_plugins_unloaded(bool unloaded) { sink_plugins_unloaded_ = unloaded; }
  bool sink_plugins_unloaded() const { return sink_plugins_unloaded_; }

 private:
  std::vector<const Descriptor*> items_;
  bool sink_plugins_unloaded_ = false;
};

}  // namespace af::registry
