#pragma once

namespace af::app {

// Parses the command line and runs the command; returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace af::app
