#include "sources/register_builtins.hpp"

namespace af::sources {

void register_builtins(DataSourceRegistry& /*registry*/) {}

}  // namespace af::sources
