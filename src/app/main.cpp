#include "app/cli.hpp"

int main(int argc, char** argv) { return af::app::run_cli(argc, argv); }
