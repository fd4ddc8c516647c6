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
# Fails soft: without npm or network it prints why and exits 0 with no library.
set -euo pipefail

out_dir=${1:?usage: build_talib.sh OUT_DIR}
version=2.0.5
cache=${AF_TALIB_CACHE:-$HOME/.cache/alpha_forge/talib}
lib="$out_dir/lib/libta_lib.a"

if [[ -f "$lib" && -f "$out_dir/include/ta_libc.h" ]]; then
  echo "talib: already built: $lib"
  exit 0
fi

soft_fail() {
  echo "talib: $1; TA-Lib oracle tests will not be built (not an error)"
  exit 0
}

mkdir -p "$cache"
tarball="$cache/talib-$version.tgz"
if [[ ! -f "$tarball" ]]; then
  command -v npm >/dev/null 2>&1 || soft_fail "npm not found"
  echo "talib: fetching talib@$version from the npm registry into $cache"
  (cd "$cache" && timeout 120 npm pack "talib@$version" >/dev/null 2>&1) || soft_fail "npm pack talib@$version failed (registry unreachable?)"
  [[ -f "$tarball" ]] || soft_fail "npm pack did not produce $tarball"
fi

src="$cache/talib-$version"
if [[ ! -d "$src/package/src/lib/src/ta_func" ]]; then
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$tarball" -C "$src" || soft_fail "cannot unpack $tarball"
fi
root="$src/package/src/lib"

cc=${CC:-cc}
jobs=${AF_TALIB_JOBS:-2}
obj_dir="$out_dir/obj"
mkdir -p "$obj_dir" "$out_dir/lib" "$out_dir/include"
echo "talib: compiling $(ls "$root"/src/ta_common/*.c "$root"/src/ta_func/*.c | wc -l) C files with $cc -O2 (-j$jobs) into $out_dir"
ls "$root"/src/ta_common/*.c "$root"/src/ta_func/*.c |
  xargs -P "$jobs" -I{} sh -c 'f="{}"; o="'"$obj_dir"'/$(basename "$f" .c).o"; [ -f "$o" ] || '"$cc"' -O2 -w -fPIC -I "'"$root"'/include" -I "'"$root"'/src/ta_common" -I "'"$root"'/src/ta_func" -c "$f" -o "$o"' ||
  soft_fail "compilation failed"
rm -f "$lib.tmp"
ar rcs "$lib.tmp" "$obj_dir"/*.o && mv "$lib.tmp" "$lib"
cp "$root"/include/*.h "$out_dir/include/"
echo "talib: built $lib"
