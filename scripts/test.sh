#!/usr/bin/env bash
# The test command: sets up a Debian 12 machine, builds, and runs every test.
#
# Stages (each prints how long it took; every wait in them is bounded):
#   deps      scripts/deps.sh test (apt-get, bounded by AF_APT_TIMEOUT)
#   oracle    TA-Lib's C library from npm's talib package, the feature tests' oracle
#   build     the whole tree, tests and benchmarks, with AddressSanitizer + UBSan and
#             warnings as errors (preset asan; the demo's optimised build is
#             scripts/setup.sh's)
#   servers   ClickHouse and dynalite on loopback (scripts/test_servers.sh)
#   tests     every test under ASan + UBSan (ctest)
#   tsan      the threaded modules' tests (service, sinks, delivery, runtime, and
#             binance: the live feed's io thread, worker and inbox) under
#             ThreadSanitizer (preset tsan, only those targets)
#   fuzz      a libFuzzer run of the kline frame parser (AF_FUZZ_SECONDS, default 20)
#
# A server or oracle that cannot be had fails the run, with its log, unless the
# reason lies outside this machine (the npm registry cannot be reached; the shared
# test data is absent, as in a user's clone): then the tests that need it skip
# and the last lines say so, instead of "all suites passed". A skipped test with
# no such reason fails the run.
#
# Environment: AF_TSAN=0 leaves out the tsan stage; AF_FUZZ_SECONDS=N; AF_JOBS=N
# (default: the number of cores).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib/endpoints.sh
jobs=${AF_JOBS:-$(nproc)}
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1  # cache hits from any clone of the tree

reports="$root/build/test-reports"
stage_names=()
stage_secs=()
unavailable=()
failed=0

# stage NAME COMMAND...: runs COMMAND, records its duration, stops the run on failure.
stage() {
  local name=$1 t0=$SECONDS rc
  shift
  echo "test: === $name ==="
  "$@"
  rc=$?
  stage_names+=("$name")
  stage_secs+=($((SECONDS - t0)))
  echo "test: stage $name: $((SECONDS - t0)) s (exit $rc)"
  if [[ $rc -ne 0 ]]; then
    failed=1
    finish
  fi
}

# Prints the stage times and the verdict, and exits.
finish() {
  local i total=0
  echo "test: stage times:"
  for i in "${!stage_names[@]}"; do
    printf 'test:   %-8s %5d s\n' "${stage_names[$i]}" "${stage_secs[$i]}"
    total=$((total + stage_secs[i]))
  done
  printf 'test:   %-8s %5d s\n' total "$total"
  if [[ -d "$reports" ]]; then
    /usr/bin/python3 scripts/lib/test_report.py "$reports" >"$reports/summary.txt"
    cat "$reports/summary.txt"
  fi
  if [[ $failed -ne 0 ]]; then
    echo "test: FAILED"
    exit 1
  fi
  if [[ ${#unavailable[@]} -gt 0 ]]; then
    echo "test: passed, but these were not available, so their tests were skipped:"
    printf 'test:   - %s\n' "${unavailable[@]}"
    exit 0
  fi
  echo "test: all suites passed"
  exit 0
}

oracle() {
  local rc
  tools/talib/build_talib.sh "$root/build/talib"
  rc=$?
  if [[ $rc -eq 3 ]]; then
    unavailable+=("the TA-Lib oracle (the npm registry cannot be reached)")
    return 0
  fi
  return $rc
}

build() {
  cmake --preset asan -DAF_TALIB_DIR="$root/build/talib" >/dev/null &&
    cmake --build --preset asan -j "$jobs"
}

servers_dir="$root/build/test_servers"
servers() {
  local rc line
  bash scripts/test_servers.sh start "$servers_dir"
  rc=$?
  while IFS= read -r line; do
    [[ "$line" == *=unavailable* ]] && unavailable+=("${line#*=unavailable: }")
  done <"$servers_dir/status"
  [[ $rc -eq 0 ]] && endpoints_export "$servers_dir/endpoints.env"
}

# Each gtest binary writes an XML report; the summary counts them and lists
# every skipped test with its reason.
run_ctest() {  # BUILD_DIR REPORT_SUBDIR [ctest args...]
  local build_dir=$1 sub=$2
  shift 2
  rm -rf "${reports:?}/$sub" && mkdir -p "$reports/$sub"
  GTEST_OUTPUT="xml:$reports/$sub/" \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 900 "$@"
}

tests() {
  run_ctest build/asan asan
}

tsan() {
  local targets=(service_test sinks_test delivery_test runtime_test binance_test)
  cmake --preset tsan >/dev/null &&
    cmake --build --preset tsan -j "$jobs" --target "${targets[@]}" &&
    run_ctest build/tsan tsan -R "^($(IFS='|'; echo "${targets[*]}"))\$"
}

fuzz() {
  tools/fuzz/run_fuzz.sh "${AF_FUZZ_SECONDS:-20}" build/fuzz
}

# Counts passed/failed/skipped over every XML report (finish prints the list);
# a skip is allowed only when something was unavailable for a reason outside
# this machine.
summarise() {
  local out rc skipped
  out=$(/usr/bin/python3 scripts/lib/test_report.py "$reports")
  rc=$?
  skipped=$(tail -n 1 <<<"$out" | sed -n 's/^test: [0-9]* passed, [0-9]* failed, \([0-9]*\) skipped$/\1/p')
  if [[ "${skipped:-0}" -gt 0 && ${#unavailable[@]} -eq 0 ]]; then
    echo "test: $skipped tests skipped although every server, oracle and data set was set up:"
    grep '^test: skipped ' <<<"$out"
    return 1
  fi
  return $rc
}

rm -rf "$reports"
[[ -d ../shared/data ]] || unavailable+=("the shared test data (../shared/data is absent, as in a user's clone)")

stage deps ./scripts/deps.sh test
stage oracle oracle
stage build build
stage servers servers
trap 'bash scripts/test_servers.sh stop "$servers_dir"' EXIT
stage tests tests
[[ "${AF_TSAN:-1}" == 0 ]] || stage tsan tsan
stage fuzz fuzz
stage report summarise
finish
