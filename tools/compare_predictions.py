#!/usr/bin/env python3
"""Compare the predictions of the Python original with alpha_forge's.

Reads two CSV files (standard library only) and matches rows by (symbol, bar):

    tools/compare_predictions.py --old old.csv --new outputs/predictions/x.csv --interval 1h

alpha_forge labels a row by the bar's open time; the original labels it by its
close, one interval later. By default the old file's times are moved back by
--interval so the same bar meets the same bar (--old-label open turns that off).
Times may be ISO-8601 (with or without 'Z') or Unix epoch seconds or
milliseconds. Prints how many rows matched, how many are only on one side, the
largest absolute difference and the first differences above --tolerance; exits 0
when every common row agrees within it and 1 otherwise (2 on bad input).
"""
import argparse
import csv
import datetime as dt
import sys

UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def interval_ms(text):
    if len(text) < 2 or text[-1] not in UNITS_MS or not text[:-1].isdigit():
        raise ValueError(f"--interval '{text}': expected a number and m, h, d or w (e.g. 15m, 1h)")
    return int(text[:-1]) * UNITS_MS[text[-1]]


def to_ms(text):
    text = text.strip()
    if text.replace(".", "", 1).isdigit():
        value = float(text)
        return int(value if value > 1e11 else value * 1000)  # epoch ms, else seconds
    stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return int(stamp.timestamp() * 1000)


def read(path, ts_col, symbol_col, pred_col, shift_ms):
    rows = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for col in (ts_col, symbol_col, pred_col):
            if col not in (reader.fieldnames or []):
                raise ValueError(f"{path}: no column '{col}' (columns: {', '.join(reader.fieldnames or [])})")
        for line, row in enumerate(reader, start=2):
            if row[pred_col] in ("", "nan", "NaN"):
                continue
            try:
                key = (row[symbol_col], to_ms(row[ts_col]) - shift_ms)
                rows[key] = float(row[pred_col])
            except ValueError as e:
                raise ValueError(f"{path}:{line}: {e}") from None
    return rows


def iso(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", required=True, help="CSV written by the Python original")
    ap.add_argument("--new", required=True, help="CSV written by sinks.csv_append")
    ap.add_argument("--interval", required=True, help="the prediction interval, e.g. 1h or 2h")
    ap.add_argument("--old-label", choices=["close", "open"], default="close",
                    help="what the old file's time means (default close: moved back one interval)")
    ap.add_argument("--old-ts-col", default="ts")
    ap.add_argument("--old-symbol-col", default="symbol")
    ap.add_argument("--old-pred-col", default="prediction")
    ap.add_argument("--tolerance", type=float, default=1e-9, help="largest absolute difference accepted")
    ap.add_argument("--show", type=int, default=10, help="differences to print")
    args = ap.parse_args()
    try:
        shift = interval_ms(args.interval) if args.old_label == "close" else 0
        old = read(args.old, args.old_ts_col, args.old_symbol_col, args.old_pred_col, shift)
        new = read(args.new, "ts", "symbol", "prediction", 0)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    common = sorted(set(old) & set(new), key=lambda k: (k[1], k[0]))
    diffs = [(abs(old[k] - new[k]), k) for k in common]
    bad = [(d, k) for d, k in diffs if d > args.tolerance]
    print(f"matched={len(common)} only_old={len(set(old) - set(new))} only_new={len(set(new) - set(old))} "
          f"max_abs_diff={max((d for d, _ in diffs), default=0.0):.3g} above_tolerance={len(bad)}")
    for d, (symbol, ts) in bad[: args.show]:
        print(f"  {iso(ts)} {symbol}: old={old[(symbol, ts)]!r} new={new[(symbol, ts)]!r} diff={d:.3g}")
    if not common:
        print("no common rows: check --interval and --old-label (open vs close time)", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
