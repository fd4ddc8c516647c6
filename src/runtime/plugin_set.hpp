#pragma once
// PluginSet: the registries of every plugin kind, filled explicitly by app/
// (each module's register_builtins), and the Catalog view over all of them.

#include "registry/registry.hpp"
#include "runtime/data_source.hpp"
#include "runtime/feature.hpp"
#include "runtime/model.hpp"
#include "runtime/sink.hpp"
#include "runtime/transform.hpp"

namespace af {

struct PluginSet {
  DataSourceRegistry data;
  TransformRegistry transforms;
  FeatureRegistry features;
  ModelRegistry models;
  SinkRegistry sinks;

  registry::Catalog catalog() const {
    registry::Catalog c;
    c.add_all(data.descriptors());
    c.add_all(transforms.descriptors());
    c.add_all(features.descriptors());
    c.add_all(models.descriptors());
    c.add_all(sinks.descriptors());
    return c;
  }
};

}  // namespace af
