#!/usr/bin/python3
"""Pure-Python incremental version of the same pipeline (momentum(20) as
TA-Lib ROCP, RSI(14) Wilder with TA-Lib seeding, linear tanh model, CSV append
per prediction): O(1) state per symbol per event, no pandas. Separates the
algorithmic gain (no whole-frame recompute) from the language gain (C++).
Output and the printed line as seed_loop.py."""

import argparse
import collections
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mirror  # noqa: E402


class SymbolState:
    __slots__ = ("closes", "prev", "count", "gain", "loss", "n_rsi")

    def __init__(self, mom_window, rsi_window):
        self.closes = collections.deque(maxlen=mom_window + 1)
        self.prev = None
        self.count = 0
        self.gain = 0.0
        self.loss = 0.0
        self.n_rsi = rsi_window

    def update(self, close):
        """Returns (momentum, rsi), NaN while warming up."""
        self.closes.append(close)
        mom = math.nan
        if len(self.closes) == self.closes.maxlen:
            p = self.closes[0]
            mom = (close - p) / p
        r = math.nan
        if self.prev is not None:
            d = close - self.prev
            g = d if d > 0 else 0.0
            lo = -d if d < 0 else 0.0
            n = self.n_rsi
            if self.count < n:
                self.gain += g
                self.loss += lo
                self.count += 1
                if self.count == n:
                    self.gain /= n
                    self.loss /= n
            else:
                self.gain = (self.gain * (n - 1) + g) / n
                self.loss = (self.loss * (n - 1) + lo) / n
            if self.count >= n:
                t = self.gain + self.loss
                r = 100.0 * (self.gain / t) if t != 0.0 else 0.0
        self.prev = close
        return mom, r


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--symbols", required=True)
    ap.add_argument("--interval", default="1h")
    ap.add_argument("--lookback-days", type=int, default=30)
    ap.add_argument("--mom-window", type=int, default=20)
    ap.add_argument("--rsi-window", type=int, default=14)
    ap.add_argument("--weights", default="-5.0,-0.04")
    ap.add_argument("--bias", type=float, default=2.0)
    ap.add_argument("--max-events", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    symbols = a.symbols.split(",")
    w_mom, w_rsi = (float(x) for x in a.weights.split(","))
    history, streamed, _ = mirror.load_events(a.data, symbols, a.interval, a.lookback_days)
    if a.max_events:
        streamed = streamed[:a.max_events]
    state = {s: SymbolState(a.mom_window, a.rsi_window) for s in symbols}
    for s, b in history:
        state[s].update(b[4])
    t0 = time.process_time()
    w0 = time.perf_counter()
    emitted = 0
    with open(a.out, "w") as f:
        f.write("ts,symbol,prediction\n")
        for s, b in streamed:
            mom, r = state[s].update(b[4])
            if math.isnan(mom) or math.isnan(r):
                continue
            pred = math.tanh(a.bias + w_mom * mom + w_rsi * r)
            f.write(f"{mirror.iso(b[0])},{s},{pred!r}\n")
            f.flush()
            emitted += 1
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    n = len(streamed)
    print(f"baseline=python_incremental events={n} predictions={emitted} symbols={len(symbols)} "
          f"cpu_seconds={cpu:.6f} wall_seconds={wall:.6f} events_per_sec={n / cpu if cpu else 0:.3f} "
          f"us_per_event={1e6 * cpu / n if n else 0:.3f}")


if __name__ == "__main__":
    main()
