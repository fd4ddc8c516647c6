#!/usr/bin/env bash
# Builds TA-Lib's C library as a test oracle for the feature tests.
#
#   tools/talib/build_talib.sh OUT_DIR
#
# Result: OUT_DIR/lib/libta_lib.a and OUT_DIR/include/*.h (configure the build
# with -DAF_TALIB_DIR=OUT_DIR, or use the default build/<dir>/talib).
# The npm tarball (talib@2.0.5 bundles TA-Lib 0.6 C sources) is cached under
# ${AF_TALIB_CACHE:-$HOME/.cache/alpha_forge/talib}, never in the repository.
# Idempotent: does nothing when OUT_DIR/lib/libta_lib.a exists.
# Exit status: 0 built (or already there); 3 the npm registry cannot be reached
# (the oracle tests then skip, and the test command says so); 1 anything else.
set -euo pipefail

out_dir=${1:?usage: build_talib.sh OUT_DIR}
version=2.0.5
cache=${AF_TALIB_CACHE:-$HOME/.cache/alpha_forge/talib}
lib="$out_dir/lib/libta_lib.a"

if [[ -f "$lib" && -f "$out_dir/include/ta_libc.h" ]]; then
  echo "talib: already built: $lib"
  exit 0
fi

fail() {
  echo "talib: $1" >&2
  exit 1
}

mkdir -p "$cache"
tarball="$cache/talib-$version.tgz"
if [[ ! -f "$tarball" ]]; then
  command -v npm >/dev/null 2>&1 || fail "npm not found (scripts/deps.sh test installs it)"
  echo "talib: fetching talib@$version from the npm registry into $cache"
  if ! (cd "$cache" && timeout 120 npm pack "talib@$version" >"$cache/npm-pack.log" 2>&1); then
    if ! timeout 30 npm ping >/dev/null 2>&1; then
      echo "talib: the npm registry cannot be reached; the TA-Lib oracle tests will be skipped" >&2
      exit 3
    fi
    cat "$cache/npm-pack.log" >&2
    fail "npm pack talib@$version failed"
  fi
  [[ -f "$tarball" ]] || fail "npm pack did not produce $tarball"
fi

src="$cache/talib-$version"
if [[ ! -d "$src/package/src/lib/src/ta_func" ]]; then
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$tarball" -C "$src" || fail "cannot unpack $tarball"
fi
root="$src/package/src/lib"

cc=${CC:-cc}
jobs=${AF_TALIB_JOBS:-2}
obj_dir="$out_dir/obj"
mkdir -p "$obj_dir" "$out_dir/lib" "$out_dir/include"
echo "talib: compiling $(ls "$root"/src/ta_common/*.c "$root"/src/ta_func/*.c | wc -l) C files with $cc -O2 (-j$jobs) into $out_dir"
ls "$root"/src/ta_common/*.c "$root"/src/ta_func/*.c |
  xargs -P "$jobs" -I{} sh -c 'f="{}"; o="'"$obj_dir"'/$(basename "$f" .c).o"; [ -f "$o" ] || '"$cc"' -O2 -w -fPIC -I "'"$root"'/include" -I "'"$root"'/src/ta_common" -I "'"$root"'/src/ta_func" -c "$f" -o "$o"' ||
  fail "compilation failed"
rm -f "$lib.tmp"
ar rcs "$lib.tmp" "$obj_dir"/*.o && mv "$lib.tmp" "$lib"
cp "$root"/include/*.h "$out_dir/include/"
echo "talib: built $lib"
