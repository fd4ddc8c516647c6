"""Reads a Binance Vision mirror (futures/um monthly klines zips, as written by
`alpha_forge synth-data`) into plain Python lists, and orders bars as the
engine's replay driver does: by close time, then by the symbol's position in
the universe. Shared by seed_loop.py and incremental_loop.py so both baselines
see exactly the bars the engine sees; the reading is not timed."""

import csv
import io
import os
import zipfile

DAY_MS = 86_400_000
INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "2h": 7_200_000,
               "4h": 14_400_000, "1d": DAY_MS}


def load_symbol(data_dir, symbol, interval):
    """All bars of one symbol: list of (ts, open, high, low, close, volume), ts ascending."""
    folder = os.path.join(data_dir, "data", "futures", "um", "monthly", "klines", symbol, interval)
    bars = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".zip"):
            continue
        with zipfile.ZipFile(os.path.join(folder, name)) as z:
            for member in z.namelist():
                text = io.TextIOWrapper(z.open(member), encoding="ascii")
                for row in csv.reader(text):
                    if not row or not row[0][:1].isdigit():
                        continue  # header
                    bars[int(row[0])] = (int(row[0]), float(row[1]), float(row[2]), float(row[3]),
                                         float(row[4]), float(row[5]))
    return [bars[k] for k in sorted(bars)]


def load_events(data_dir, symbols, interval, lookback_days, anchor_ms=None, to_ms=None):
    """(history, streamed): lists of (symbol, bar) in the replay driver's order.
    The anchor defaults to the earliest bar + lookback_days, as `alpha_forge replay`."""
    per_symbol = {s: load_symbol(data_dir, s, interval) for s in symbols}
    if anchor_ms is None:
        anchor_ms = min(b[0][0] for b in per_symbol.values() if b) + lookback_days * DAY_MS
    step = INTERVAL_MS[interval]
    start = anchor_ms - lookback_days * DAY_MS
    start = start if start % step == 0 else (start // step + 1) * step
    order = {s: i for i, s in enumerate(symbols)}
    events = []
    for s, bars in per_symbol.items():
        for b in bars:
            if b[0] >= start and (to_ms is None or b[0] < to_ms):
                events.append((s, b))
    events.sort(key=lambda e: (e[1][0] + step, order[e[0]]))
    history = [e for e in events if e[1][0] < anchor_ms]
    streamed = [e for e in events if e[1][0] >= anchor_ms]
    return history, streamed, anchor_ms


def iso(ts_ms):
    import datetime
    return datetime.datetime.fromtimestamp(ts_ms / 1000, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
