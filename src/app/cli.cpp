#include "app/cli.hpp"

namespace af::app {

int run_cli(int, char**) { return 0; }

}  // namespace af::app
