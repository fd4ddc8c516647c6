#!/usr/bin/env bash
# More than one process (docs/scale-out.md), on loopback: one NATS JetStream node,
# the simulated Binance exchange, one `alpha_forge ingest` publishing every bar of
# the pipeline to the stream AF_BARS, and two `alpha_forge signal --bus --shard K/2`
# processes, each computing its half of the symbols from the bus (never from the
# exchange) and printing its predictions with its shard in front.
#
# The pipeline is the minimal example with four symbols (BTCUSDT and ETHUSDT fall on
# shard 1, SOLUSDT and BNBUSDT on shard 2). Each shard runs in its own folder under
# $AF_DEMO_DIR/cluster (its state, its CSV). Ctrl+C stops everything.
#
# AF_DEMO_DIR (default build/demo), AF_DEMO_SECONDS=N (stop after N seconds),
# AF_DEMO_PORT (simulated exchange, default 28766), AF_DEMO_NATS_PORT (default 24222),
# AF_DEMO_BIN (an already built binary instead of setting up and building).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v nats-server >/dev/null || {
  echo "demo_cluster.sh: nats-server is not installed (scripts/deps.sh installs it)" >&2
  exit 1
}
[ -n "${AF_DEMO_BIN:-}" ] || ./scripts/setup.sh
bin=$(realpath "${AF_DEMO_BIN:-build/release/src/app/alpha_forge}")
demo=${AF_DEMO_DIR:-build/demo}
mkdir -p "$demo"
demo=$(realpath "$demo")
data=$demo/cluster-data
work=$demo/cluster
port=${AF_DEMO_PORT:-28766}
nats_port=${AF_DEMO_NATS_PORT:-24222}
symbols=BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT

if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"
  "$bin" synth-data --out "$data" --symbols "$symbols" --interval 1h --from 2025-01-01 --to 2025-07-01 --seed 42
  touch "$data/.complete"
fi

# Every run starts afresh: a new stream store, new shard states and outputs.
rm -rf "$work"
mkdir -p "$work/nats" "$work/ingest" "$work/shard1" "$work/shard2"
pipeline=$work/pipeline.yaml
sed 's/universe: \[BTCUSDT, ETHUSDT\]/universe: [BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT]/' \
  examples/08_signal_generation/minimal_offline.yaml >"$pipeline"
grep -q 'universe: \[BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT\]' "$pipeline" || {
  echo "demo_cluster.sh: the example pipeline's universe line changed; update this script" >&2
  exit 1
}
"$bin" validate "$pipeline" --shard 1/2 >/dev/null
"$bin" validate "$pipeline" --shard 2/2 >/dev/null

servers=()  # nats-server, the simulated exchange
procs=()    # ingest and the shards: stopped (and drained) before the servers
# SIGTERM: background jobs of a script start with SIGINT ignored; alpha_forge and
# nats-server drain on SIGTERM as on Ctrl+C.
stop_all() {
  for p in "${procs[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${procs[@]}"; do wait "$p" 2>/dev/null || true; done
  for p in "${servers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${servers[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_all EXIT

nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$work/nats" >"$work/nats/server.log" 2>&1 &
servers+=($!)
"$bin" --log-level warn sim-exchange --data "$data" --port "$port" --start 2025-03-01T00:00:00Z --speed 3600 &
servers+=($!)
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/fapi/v1/time" >/dev/null 2>&1 && break
  sleep 0.1
done

bus=nats://127.0.0.1:$nats_port
echo "NATS JetStream on $bus, simulated exchange on 127.0.0.1:$port"
(cd "$work/ingest" &&
  exec "$bin" --log-level warn ingest "$pipeline" --bus "$bus" --state-dir state \
    --binance-base-url "http://127.0.0.1:$port") &
procs+=($!)
for k in 1 2; do
  (cd "$work/shard$k" &&
    exec "$bin" --log-level warn signal "$pipeline" --bus "$bus" --shard "$k/2" --print --state-dir state \
      > >(sed -u "s|^|[shard $k/2] |")) &
  procs+=($!)
done
echo "predictions: $work/shard1/outputs/predictions/ and $work/shard2/outputs/predictions/ (Ctrl+C to stop)"

if [ -n "${AF_DEMO_SECONDS:-}" ]; then
  sleep "$AF_DEMO_SECONDS"
else
  wait
fi
