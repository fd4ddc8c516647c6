#!/usr/bin/env bash
# Sets up, builds with warnings as errors, and runs the whole test suite.
# Exits non-zero on any failure. Environment:
#   AF_ASAN=1          also build the unit tests with AddressSanitizer+UBSan (preset
#                      asan; only their targets) and run them under it. Off by
#                      default: on 2 cores that build alone takes ~20 min, which the
#                      CI budget (build within 25 min) cannot hold with the main build.
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

# The unit tests again under AddressSanitizer + UBSan (only their targets are built).
if [ "${AF_ASAN:-0}" = "1" ]; then
  cmake --preset asan -DAF_TALIB_DIR="$talib_dir" >/dev/null
  mapfile -t unit_targets < <(ctest --test-dir build/asan -N -L unit | sed -n 's/^ *Test *#[0-9]*: //p')
  cmake --build --preset asan -j "$(nproc)" --target "${unit_targets[@]}"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j "$(nproc)" -L unit --timeout 900
fi
echo "test: all suites passed"
