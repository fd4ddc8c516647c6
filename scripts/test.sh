#!/usr/bin/env bash
# Sets up, builds with warnings as errors, and runs the whole test suite.
# Exits non-zero on any failure. Environment:
#   AF_ASAN=1          also build with AddressSanitizer+UBSan (preset asan) and run
#                      the unit tests under it (about doubles the time)
#   AF_FUZZ_SECONDS=N  length of the kline-parser fuzz run (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

./scripts/deps.sh

# TA-Lib's C library, built from the sources in npm's talib package, is the
# oracle of the feature tests. Without the npm registry the oracle tests skip.
talib_dir="$root/build/talib"
if [ -x tools/talib/build_talib.sh ]; then
  tools/talib/build_talib.sh "$talib_dir" || echo "test: TA-Lib oracle unavailable; its tests will be skipped"
fi

cmake --preset ci -DAF_TALIB_DIR="$talib_dir" >/dev/null
cmake --build --preset ci -j "$(nproc)"

# Real servers on loopback for the sink tests: ClickHouse (Debian's package) and a
# DynamoDB emulator. A server that cannot be had is reported; its tests skip.
servers_dir="$root/build/test_servers"
bash scripts/test_servers.sh start "$servers_dir"
trap 'bash scripts/test_servers.sh stop "$servers_dir"' EXIT
if [[ -f "$servers_dir/endpoints.env" ]]; then set -a; . "$servers_dir/endpoints.env"; set +a; fi

ctest --test-dir build/ci --output-on-failure -j "$(nproc)" --timeout 600

# A brief libFuzzer run of the kline frame parser (clang, ASan+UBSan).
tools/fuzz/run_fuzz.sh "${AF_FUZZ_SECONDS:-20}" build/fuzz

if [ "${AF_ASAN:-0}" = "1" ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$(nproc)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j "$(nproc)" -L unit --timeout 900
fi
echo "test: all suites passed"
