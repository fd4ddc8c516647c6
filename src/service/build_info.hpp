#pragma once
// What this binary was built from, for the live service's `af_build_info` metric:
// the project's version (CMake's PROJECT_VERSION) and the git commit the tree was
// configured from ("unknown" outside a git checkout). Defined in a source file that
// CMake generates (build_info.cpp.in), so a new commit recompiles that file alone.

#include <string_view>

namespace af::service {

std::string_view build_version();
std::string_view build_commit();

}  // namespace af::service
