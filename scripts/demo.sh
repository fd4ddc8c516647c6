#!/usr/bin/env bash
# The live service on the minimal example pipeline: sets up and builds, generates a seeded
# synthetic Binance Vision mirror (BTCUSDT, ETHUSDT, 1h bars, 2025-01 to 2025-06),
# starts the simulated Binance exchange on loopback serving it (one simulated
# hour per wall second, from 2025-03-01), and runs the live service
# `alpha_forge signal` on the minimal pipeline (momentum + RSI + a linear model)
# against it: gapless warmup over the bulk archive and REST, then a prediction
# per closed bar, printed as it comes and appended to
# $AF_DEMO_DIR/outputs/predictions/minimal_offline.csv. Ctrl+C stops it cleanly.
# It builds only the alpha_forge binary (scripts/setup.sh), not the tests.
#
# AF_DEMO_DIR is where the demo writes its data, state and predictions (default
# build/demo: nothing else under the repository is written, besides the build);
# AF_DEMO_SECONDS=N stops the service after N seconds (as Ctrl+C would);
# AF_DEMO_PORT sets the simulated exchange's port (default 28765); AF_DEMO_BIN runs an
# already built binary instead of setting up and building.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -n "${AF_DEMO_BIN:-}" ] || ./scripts/setup.sh
bin=$(realpath "${AF_DEMO_BIN:-build/release/src/app/alpha_forge}")
demo=${AF_DEMO_DIR:-build/demo}
mkdir -p "$demo"
demo=$(realpath "$demo")
data=$demo/data
port=${AF_DEMO_PORT:-28765}
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"
  "$bin" synth-data --out "$data" --symbols BTCUSDT,ETHUSDT --interval 1h --from 2025-01-01 --to 2025-07-01 --seed 42
  touch "$data/.complete"
fi
# The pipeline writes to outputs/predictions/ relative to the working directory:
# the demo runs in $demo, so that is where its predictions go.
pipeline=$(realpath examples/08_signal_generation/minimal_offline.yaml)
cd "$demo"
"$bin" validate "$pipeline" >/dev/null

# Each demo run starts afresh: its own state directory, its own predictions file.
rm -rf state outputs/predictions/minimal_offline.csv outputs/predictions/minimal_offline.csv.plan

"$bin" --log-level warn sim-exchange --data "$data" --port "$port" --start 2025-03-01T00:00:00Z --speed 3600 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/fapi/v1/time" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "live service against the simulated exchange on 127.0.0.1:$port (Ctrl+C to stop)"
echo "predictions are appended to $demo/outputs/predictions/minimal_offline.csv"
run=("$bin" signal "$pipeline" --print --state-dir state --binance-base-url "http://127.0.0.1:$port")
if [ -n "${AF_DEMO_SECONDS:-}" ]; then
  timeout --foreground --preserve-status -s INT "$AF_DEMO_SECONDS" "${run[@]}"
else
  "${run[@]}"
fi
