#pragma once
// The `class` param of sinks.python, parsed and checked without running any
// Python: `package.module:Class` (imported from PYTHONPATH and the pipeline
// file's folder) or `path/to/file.py:Class` (a file, relative to the pipeline
// file's folder unless absolute). Stateless; any thread.

#include <string>

#include "common/result.hpp"

namespace af::python {

struct ClassSpec {
  enum class Kind { kModule, kFile };
  Kind kind = Kind::kModule;
  std::string target;      // "pkg.mod", or the file's path resolved against base_dir
  std::string class_name;  // "Class" (dotted for a nested class: "Outer.Inner")
  std::string base_dir;    // the pipeline file's folder ("." when there is none)
};

// Parses `text`; an Error names what is wrong with it ("expects module:Class or
// file.py:Class"). `pipeline_file` may be "" (relative paths then resolve
// against the working directory).
Result<ClassSpec> parse_class_spec(const std::string& text, const std::string& pipeline_file);

// What `validate` can tell without importing: the spec's grammar, and for the
// file form that the file exists and is a regular file. "" when plausible.
std::string class_spec_problem(const std::string& text, const std::string& pipeline_file);

}  // namespace af::python
