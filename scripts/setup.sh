#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and builds alpha_forge (Release).
# Result: build/release/src/app/alpha_forge
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
echo "setup: built $(pwd)/build/release/src/app/alpha_forge"
