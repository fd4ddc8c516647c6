#!/usr/bin/env bash
# The main job on its embedded default: sets up and builds, generates a seeded
# synthetic Binance Vision mirror (BTCUSDT, ETHUSDT, 1h, 2025-01 to 2025-03), and
# replays the offline minimal pipeline (momentum + RSI + a linear model) over it,
# writing predictions to outputs/predictions/minimal_offline.csv.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
bin=build/release/src/app/alpha_forge
data=build/demo-data
if [ ! -d "$data/data" ]; then
  "$bin" synth-data --out "$data" --symbols BTCUSDT,ETHUSDT --interval 1h --from 2025-01-01 --to 2025-04-01 --seed 42
fi
"$bin" validate examples/08_signal_generation/minimal_offline.yaml
"$bin" replay examples/08_signal_generation/minimal_offline.yaml --data "$data" --from 2025-02-01
echo
echo "first and last predictions (outputs/predictions/minimal_offline.csv):"
head -4 outputs/predictions/minimal_offline.csv
tail -2 outputs/predictions/minimal_offline.csv
