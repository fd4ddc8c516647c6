#!/usr/bin/python3
"""The seed's per-event loop (the Python original, realtime_signal_generation)
in its own idiom, as the baseline for bench/e2e: per closed bar, pd.concat the
row onto the context frame, drop_duplicates on (symbol, ts) keeping the last,
trim each symbol to the frame length (720 rows), recompute every feature over
the whole frame per symbol, take the newest row's prediction for the bar's
symbol and append it to a CSV. Pipeline: momentum(20) (TA-Lib ROCP) + RSI(14)
(Wilder, TA-Lib seeding) + linear tanh model, as
examples/08_signal_generation/minimal_offline.yaml.

Prints one line of key=value pairs: events, seconds (CPU time of the loop
only, data loading excluded), events_per_sec, us_per_event.
Needs Debian's python3-pandas."""

import argparse
import math
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mirror  # noqa: E402


def momentum(close, window):
    prev = close.shift(window)
    return (close - prev) / prev  # TA-Lib ROCP order of operations


def rsi(close, window):
    """Wilder's RSI as TA-Lib: first averages = mean of the first `window`
    changes, then ewm(alpha=1/window, adjust=False)."""
    change = close.diff()
    gain = change.clip(lower=0.0)
    loss = (-change).clip(lower=0.0)
    out = pd.Series(np.nan, index=close.index)
    if len(close) <= window:
        return out
    g = gain.iloc[window:].copy()
    l_ = loss.iloc[window:].copy()
    g.iloc[0] = gain.iloc[1:window + 1].mean()
    l_.iloc[0] = loss.iloc[1:window + 1].mean()
    avg_g = g.ewm(alpha=1.0 / window, adjust=False).mean()
    avg_l = l_.ewm(alpha=1.0 / window, adjust=False).mean()
    total = avg_g + avg_l
    val = (100.0 * avg_g / total).where(total != 0.0, 0.0)
    out.iloc[window:] = val.values
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--symbols", required=True)
    ap.add_argument("--interval", default="1h")
    ap.add_argument("--lookback-days", type=int, default=30)
    ap.add_argument("--frame-rows", type=int, default=720, help="rows kept per symbol (the seed's 720)")
    ap.add_argument("--mom-window", type=int, default=20)
    ap.add_argument("--rsi-window", type=int, default=14)
    ap.add_argument("--weights", default="-5.0,-0.04")
    ap.add_argument("--bias", type=float, default=2.0)
    ap.add_argument("--max-events", type=int, default=0, help="stop after N streamed events (0 = all)")
    ap.add_argument("--out", required=True, help="predictions CSV (appended per event)")
    a = ap.parse_args()
    symbols = a.symbols.split(",")
    w_mom, w_rsi = (float(x) for x in a.weights.split(","))
    history, streamed, _ = mirror.load_events(a.data, symbols, a.interval, a.lookback_days)
    if a.max_events:
        streamed = streamed[:a.max_events]
    cols = ["ts", "symbol", "open", "high", "low", "close", "volume"]
    frame = pd.DataFrame([(b[0], s) + b[1:] for s, b in history], columns=cols)
    frame = frame.groupby("symbol", sort=False).tail(a.frame_rows)
    if os.path.exists(a.out):
        os.remove(a.out)
    pd.DataFrame(columns=["ts", "symbol", "prediction"]).to_csv(a.out, index=False)

    t0 = time.process_time()
    w0 = time.perf_counter()
    emitted = 0
    for s, b in streamed:
        row = pd.DataFrame([{"ts": b[0], "symbol": s, "open": b[1], "high": b[2], "low": b[3],
                             "close": b[4], "volume": b[5]}])
        frame = pd.concat([frame, row], ignore_index=True)
        frame = frame.drop_duplicates(subset=["symbol", "ts"], keep="last")
        frame = frame.groupby("symbol", sort=False).tail(a.frame_rows).reset_index(drop=True)
        # Every step recomputes its feature over the whole frame, symbol by symbol.
        mom = pd.Series(np.nan, index=frame.index)
        rs = pd.Series(np.nan, index=frame.index)
        for _, g in frame.groupby("symbol", sort=False):
            mom.loc[g.index] = momentum(g["close"], a.mom_window)
            rs.loc[g.index] = rsi(g["close"], a.rsi_window)
        frame["mom_20"] = mom
        frame["rsi_14"] = rs
        frame["model.prediction"] = np.tanh(a.bias + w_mom * frame["mom_20"] + w_rsi * frame["rsi_14"])
        latest = frame[frame["symbol"] == s].iloc[-1]
        pred = latest["model.prediction"]
        if not math.isnan(pred):
            pd.DataFrame([{"ts": mirror.iso(int(latest["ts"])), "symbol": s, "prediction": repr(float(pred))}]).to_csv(
                a.out, mode="a", header=False, index=False)
            emitted += 1
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    n = len(streamed)
    print(f"baseline=seed_pandas events={n} predictions={emitted} frame_rows={a.frame_rows} symbols={len(symbols)} "
          f"cpu_seconds={cpu:.6f} wall_seconds={wall:.6f} events_per_sec={n / cpu if cpu else 0:.3f} "
          f"us_per_event={1e6 * cpu / n if n else 0:.3f}")


if __name__ == "__main__":
    main()
