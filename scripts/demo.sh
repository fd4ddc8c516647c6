#!/usr/bin/env bash
# The main job on its embedded default: sets up and builds, generates a seeded
# synthetic Binance Vision mirror (BTCUSDT, ETHUSDT, 1h bars, 2025-01 to 2025-06),
# starts the simulated Binance exchange on loopback serving it (one simulated
# hour per wall second, from 2025-03-01), and runs the live service
# `alpha_forge signal` on the minimal pipeline (momentum + RSI + a linear model)
# against it: gapless warmup over the bulk archive and REST, then a prediction
# per closed bar, printed as it comes and appended to
# outputs/predictions/minimal_offline.csv. Ctrl+C stops it cleanly.
#
# AF_DEMO_SECONDS=N stops the service after N seconds (as Ctrl+C would);
# AF_DEMO_PORT sets the simulated exchange's port (default 28765); AF_DEMO_BIN runs an
# already built binary instead of setting up and building.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -n "${AF_DEMO_BIN:-}" ] || ./scripts/setup.sh
bin=${AF_DEMO_BIN:-build/release/src/app/alpha_forge}
data=build/demo-data
port=${AF_DEMO_PORT:-28765}
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"
  "$bin" synth-data --out "$data" --symbols BTCUSDT,ETHUSDT --interval 1h --from 2025-01-01 --to 2025-07-01 --seed 42
  touch "$data/.complete"
fi
pipeline=examples/08_signal_generation/minimal_offline.yaml
"$bin" validate "$pipeline"

# Each demo run starts afresh: its own state directory, its own predictions file.
rm -rf build/demo-state outputs/predictions/minimal_offline.csv

"$bin" --log-level warn sim-exchange --data "$data" --port "$port" --start 2025-03-01T00:00:00Z --speed 3600 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/fapi/v1/time" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "live service against the simulated exchange on 127.0.0.1:$port (Ctrl+C to stop)"
run=("$bin" signal "$pipeline" --print --state-dir build/demo-state
  --binance-ws-url "ws://127.0.0.1:$port/market/stream"
  --binance-rest-url "http://127.0.0.1:$port"
  --binance-vision-url "http://127.0.0.1:$port")
if [ -n "${AF_DEMO_SECONDS:-}" ]; then
  timeout --foreground --preserve-status -s INT "$AF_DEMO_SECONDS" "${run[@]}"
else
  "${run[@]}"
fi
