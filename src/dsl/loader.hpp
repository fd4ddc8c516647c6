#pragma once
// The DSL front end: YAML text -> Pipeline (src/dsl/pipeline.hpp), with every
// problem collected into Diagnostics as `file:line:col: error: path: message`.
// Parameter expansion (`expand`) happens here, before the schema checks, so
// that errors name the expanded step. Stateless; any thread.

#include <optional>
#include <string>
#include <string_view>

#include "common/diagnostic.hpp"
#include "dsl/pipeline.hpp"
#include "registry/registry.hpp"

namespace af::dsl {

// The capability packs a pipeline may declare in `using.capabilities`.
const std::vector<std::string>& known_capabilities();

// Reads and loads a pipeline file. Diagnostics name the file as `path`.
// nullopt when an error other than a param's was reported. When the only errors
// are in params (a step's or a sink's), the pipeline is returned with
// `params_valid` false: the steps whose params failed are kept (flagged), a sink
// whose params failed is left out, so that the compiler can report its own errors
// in the same run (`validate` lists every stage's errors at once). The caller
// tells failure by Diagnostics::has_errors, never by the pipeline alone.
std::optional<Pipeline> load_pipeline_file(const std::string& path, const registry::Catalog& catalog,
                                           Diagnostics& diags);

// Loads pipeline text; diagnostics name the file as `file_name`.
std::optional<Pipeline> load_pipeline_text(std::string_view yaml, const std::string& file_name,
                                           const registry::Catalog& catalog, Diagnostics& diags);

}  // namespace af::dsl
