#pragma once
// Plugin documentation generated from the descriptors: `alpha_forge plugins`
// (text, --json, --markdown) and docs/plugins.md all come from here, so the docs
// cannot drift from what the engine validates.

#include <string>

#include <nlohmann/json.hpp>

#include "registry/registry.hpp"

namespace af::app {

std::string plugins_to_text(const registry::Catalog& catalog);
std::string plugins_to_markdown(const registry::Catalog& catalog);
nlohmann::json plugins_to_json(const registry::Catalog& catalog);

}  // namespace af::app
