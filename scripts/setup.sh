#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and builds the alpha_forge binary (Release):
# only the `alpha_forge` target, not the tests (scripts/test.sh builds those).
# Result: build/release/src/app/alpha_forge
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target alpha_forge
echo "setup: built $(pwd)/build/release/src/app/alpha_forge"
