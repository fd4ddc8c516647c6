#!/usr/bin/env bash
# Builds the kline parser fuzz target with clang (libFuzzer + ASan + UBSan) and runs
# it for SECONDS (default 30) from a seed corpus of real-shaped frames.
# Usage: tools/fuzz/run_fuzz.sh [SECONDS] [BUILD_DIR]
# Exit status: 0 when the run found nothing, non-zero otherwise.
set -euo pipefail
seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${2:-$repo/build/fuzz}"
mkdir -p "$out/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$repo/src" \
  "$here/kline_parser_fuzz.cpp" "$repo/src/binance/binance_kline_parser.cpp" "$repo/src/common/interval.cpp" \
  -lsimdjson -o "$out/kline_parser_fuzz"
# Seeds: a combined-stream frame, a raw frame with spaces, a subscription reply.
printf '%s' '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1785048483771,"s":"BTCUSDT","k":{"t":1785048480000, "T":1785048539999, "s":"BTCUSDT", "i":"1m", "f":1, "L":2, "o":"64346.70", "c":"64346.70", "h":"64346.70", "l":"64346.70", "v":"0.0502", "n":11, "x":false, "q":"3230.204340", "V":"0.0502", "Q":"3230.204340", "B":"0"}}}' > "$out/corpus/combined.json"
printf '%s' '{"e":"kline","E":1631636735735,"s":"ETHUSDT","k":{"t":1631636700000,"T":1631636999999,"s":"ETHUSDT","i":"5m","f":1,"L":2,"o":"46686.15","c":"46673.53","h":"46686.15","l":"46668.45","v":"12.26","n":582,"x":true,"q":"572337.21","V":"3.29","Q":"153606.31","B":"0"}}' > "$out/corpus/raw.json"
printf '%s' '{"result":null,"id":1}' > "$out/corpus/reply.json"
mkdir -p "$out/work"
"$out/kline_parser_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/work" "$out/corpus"
