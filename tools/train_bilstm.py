#!/usr/bin/python3
"""Train a small BiLSTM on a replay frame dump and export it for alpha_forge.

Input: the CSV that `alpha_forge replay PIPELINE.yaml --data DIR --dump FRAME=PATH`
writes (header `ts,symbol,<frame columns>`, one row per bar and symbol, NaN as an
empty field). Target: the next bar's return of each symbol, close[t+1]/close[t] - 1.
Each sample is the last --window rows of --columns ending at bar t (rows with an
empty input are skipped, as the engine emits no prediction for them). The first
(1 - --val) of the timeline trains, the rest validates. Inputs are normalised with
the training split's mean and std; the target is trained in units of its training
standard deviation and exported with output scaling back to return units. The
export (config.json + weights.safetensors, see docs/models.md) goes to --out and is
what `models.pytorch_bilstm_predictor` loads as `checkpoint_dir`.

    /usr/bin/python3 tools/train_bilstm.py frame.csv --out models/mine \\
        [--columns rsi6,rsi12,...] [--window 30] [--hidden 16] [--layers 2] \\
        [--unidirectional] [--epochs 20] [--seed 1]

Without --columns every column after the bar columns is used except the model's
own output (`model.*`). Needs python3-torch and numpy (Debian packages).
"""

import argparse
import csv
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_bilstm import export  # noqa: E402

BAR_COLUMNS = ["open", "high", "low", "close", "volume", "quote_volume", "trades", "taker_buy_volume",
               "taker_buy_quote_volume"]


class BiLstmRegressor(nn.Module):
    """fc(lstm(x)[0][:, -1, :]): the shape export_bilstm.py covers."""

    def __init__(self, inputs, hidden, layers, bidirectional):
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1, :])


def read_dump(path):
    """Returns (header, {symbol: (ts list, float matrix rows x columns)})."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[:2] != ["ts", "symbol"]:
            raise SystemExit("%s: not a frame dump (header must start with ts,symbol)" % path)
        cols = header[2:]
        per = {}
        for row in reader:
            ts, sym = row[0], row[1]
            vals = [float(x) if x != "" else math.nan for x in row[2:]]
            per.setdefault(sym, ([], []))
            per[sym][0].append(ts)
            per[sym][1].append(vals)
    out = {}
    for sym, (ts, rows) in per.items():
        order = sorted(range(len(ts)), key=lambda i: ts[i])  # ISO-8601 UTC sorts as text
        out[sym] = ([ts[i] for i in order], np.array([rows[i] for i in order], dtype=np.float64))
    return cols, out


def make_samples(cols, data, columns, window):
    """Windows, targets and their end timestamps over every symbol."""
    idx = [cols.index(c) for c in columns]
    close = cols.index("close")
    xs, ys, ends = [], [], []
    for sym in sorted(data):
        ts, m = data[sym]
        x = m[:, idx]
        ok = np.all(np.isfinite(x), axis=1)
        for t in range(window - 1, len(ts) - 1):
            if not ok[t - window + 1:t + 1].all():
                continue
            c0, c1 = m[t, close], m[t + 1, close]
            if not (np.isfinite(c0) and np.isfinite(c1)) or c0 == 0:
                continue
            xs.append(x[t - window + 1:t + 1])
            ys.append(c1 / c0 - 1.0)
            ends.append(ts[t])
    if not xs:
        raise SystemExit("no complete window of %d rows in the dump: a longer replay is needed" % window)
    return np.array(xs), np.array(ys), np.array(ends)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dump", help="CSV written by alpha_forge replay --dump FRAME=PATH")
    ap.add_argument("--out", required=True, help="checkpoint directory to write")
    ap.add_argument("--columns", help="input columns, comma-separated (default: every feature column)")
    ap.add_argument("--window", type=int, default=30, help="rows per sample (the step's window_size)")
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--unidirectional", action="store_true")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--val", type=float, default=0.2, help="fraction of the timeline kept for validation")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(1)
    cols, data = read_dump(args.dump)
    if args.columns:
        columns = args.columns.split(",")
        missing = [c for c in columns if c not in cols]
        if missing:
            raise SystemExit("columns not in the dump: %s (it has: %s)" % (", ".join(missing), ", ".join(cols)))
    else:
        columns = [c for c in cols if c not in BAR_COLUMNS and not c.startswith("model.") and c != "filled"]
    x, y, ends = make_samples(cols, data, columns, args.window)
    times = np.unique(ends)  # sorted; the split is by time so validation is out of sample
    cut = times[min(len(times) - 1, int(len(times) * (1.0 - args.val)))]
    train, val = ends < cut, ends >= cut
    if train.sum() < 10 or val.sum() < 1:
        raise SystemExit("too few samples (%d) to train and validate" % len(y))
    flat = x[train].reshape(-1, x.shape[2])
    mean = flat.mean(axis=0)
    std = flat.std(axis=0)
    std[~(std > 1e-12)] = 1.0
    y_std = float(y[train].std()) or 1.0
    xn = ((x - mean) / std).astype(np.float32)
    yn = (y / y_std).astype(np.float32)

    model = BiLstmRegressor(len(columns), args.hidden, args.layers, not args.unidirectional)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    xt, yt = torch.from_numpy(xn[train]), torch.from_numpy(yn[train])
    xv, yv = torch.from_numpy(xn[val]), torch.from_numpy(yn[val])
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(yt))
        total = 0.0
        for i in range(0, len(perm), args.batch):
            b = perm[i:i + args.batch]
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(xt[b])[:, 0], yt[b])
            loss.backward()
            opt.step()
            total += float(loss) * len(b)
        model.eval()
        with torch.no_grad():
            pv = model(xv)[:, 0]
            vloss = float(nn.functional.mse_loss(pv, yv))
            corr = float(np.corrcoef(pv.numpy(), yv.numpy())[0, 1]) if len(yv) > 2 else float("nan")
        print("epoch %2d  train mse %.4f  val mse %.4f  val corr %+.3f" % (epoch + 1, total / len(yt), vloss, corr))

    config = export(model, columns, args.out, mean=mean, std=std, output_scale=y_std, window_size=args.window)
    summary = {
        "dump": os.path.basename(args.dump),
        "samples_train": int(train.sum()),
        "samples_val": int(val.sum()),
        "target": "next bar return: close[t+1] / close[t] - 1",
        "target_std_train": y_std,
        "val_mse_in_std_units": vloss,
        "val_corr": corr,
        "epochs": args.epochs,
        "seed": args.seed,
        "torch_version": torch.__version__,
    }
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    a = config["architecture"]
    print("wrote %s: %d inputs, hidden %d, %d layer(s), %s, window %d" % (
        args.out, a["input_size"], a["hidden_size"], a["num_layers"],
        "bidirectional" if a["bidirectional"] else "unidirectional", args.window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
