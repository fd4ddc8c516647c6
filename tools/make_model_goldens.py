#!/usr/bin/python3
"""Regenerates the BiLSTM golden files under tests/golden/models/.

For each architecture below: a PyTorch model with seeded random weights is
exported with tools/export_bilstm.py, and PyTorch's float32 outputs on a few
fixed random input windows are written to cases.json next to the checkpoint.
The C++ test (tests/unit/models/bilstm_golden_test.cpp) loads each checkpoint
and must reproduce every output to 1e-5 absolute. The test suite needs no torch;
only running this script does (Debian: python3-torch, run with /usr/bin/python3).

    /usr/bin/python3 tools/make_model_goldens.py [--out tests/golden/models]

The shipped example checkpoint gets its cases from real windows of a replay dump:

    /usr/bin/python3 tools/make_model_goldens.py --example examples/models/bilstm_unified \
        --dump frame_2h.csv
"""

import argparse
import csv
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_bilstm import export  # noqa: E402


class LstmRegressor(nn.Module):
    """The model shape export_bilstm.py covers: fc(lstm(x)[0][:, -1, :])."""

    def __init__(self, inputs, hidden, layers, bidirectional, bias=True):
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional,
                            bias=bias)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1, :])


# name, inputs, hidden, layers, bidirectional, window, extra
ARCHITECTURES = [
    ("uni_l1_h8", 5, 8, 1, False, 12, {}),
    ("bi_l1_h16", 7, 16, 1, True, 20, {}),
    ("uni_l2_h10", 3, 10, 2, False, 9, {"weight_gain": 2.0}),
    ("bi_l2_h24", 6, 24, 2, True, 30, {"scale": 2.0, "offset": -0.25}),
    ("uni_l1_h64", 4, 64, 1, False, 16, {}),
    ("bi_l2_h12_nobias_f64", 4, 12, 2, True, 1, {"bias": False, "dtype": "F64"}),
    ("bi_l1_h8_f16", 3, 8, 1, True, 6, {"dtype": "F16"}),
]
CASES_PER_ARCH = 3


def make(out_root, name, n_in, hidden, layers, bidir, window, extra, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = LstmRegressor(n_in, hidden, layers, bidir, bias=extra.get("bias", True))
    with torch.no_grad():
        gain = extra.get("weight_gain", 1.0)
        for p in model.parameters():
            p.mul_(gain)
        if extra.get("dtype") in ("F16",):
            # weights exactly representable in the stored dtype, so torch and C++ use the same values
            for p in model.parameters():
                p.copy_(p.half().float())
    model.eval()
    columns = ["x%d_%s" % (i, name) for i in range(n_in)]
    mean = rng.normal(0, 5, n_in)
    std = rng.uniform(0.5, 3.0, n_in)
    out_dir = os.path.join(out_root, name)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    scale, offset = extra.get("scale", 1.0), extra.get("offset", 0.0)
    export(model, columns, out_dir, mean=mean, std=std, output_scale=scale, output_offset=offset,
           window_size=window, dtype=extra.get("dtype", "F32"))
    cases = []
    for _ in range(CASES_PER_ARCH):
        raw = mean + std * rng.normal(0, 1.5, (window, n_in))
        raw = np.round(raw, 6)  # short decimal text, exactly what the C++ side reads
        x = (torch.tensor(raw, dtype=torch.float32) - torch.tensor(mean, dtype=torch.float32)) / torch.tensor(
            std, dtype=torch.float32)
        with torch.no_grad():
            y = float(model(x.unsqueeze(0))[0, 0])
        cases.append({"inputs": raw.tolist(), "expected": y * scale + offset})
    golden = {
        "generator": "tools/make_model_goldens.py",
        "torch_version": torch.__version__,
        "window_size": window,
        "tolerance": 1e-5,
        "cases": cases,
    }
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    return out_dir


def read_safetensors(path):
    """{name: float32 array} from a safetensors file (the F32/F64/F16 subset the export writes)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    types = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=types[e["dtype"]]).reshape(e["shape"]).astype(np.float32)
    return out


def load_checkpoint(ck_dir):
    """The exported checkpoint as a PyTorch module plus its config."""
    with open(os.path.join(ck_dir, "config.json")) as f:
        cfg = json.load(f)
    a = cfg["architecture"]
    model = LstmRegressor(a["input_size"], a["hidden_size"], a["num_layers"], a["bidirectional"], a.get("bias", True))
    sd = {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(os.path.join(ck_dir, "weights.safetensors")).items()}
    model.load_state_dict(sd)
    model.eval()
    return model, cfg


def make_example(out_root, ck_rel, dump, cases=4):
    """Golden cases for a shipped checkpoint from real windows of a replay dump
    (`alpha_forge replay ... --dump FRAME=PATH`). When the dump also holds the
    engine's own predictions (model.prediction), reports how far they are from
    PyTorch's over every complete window, as an end-to-end check."""
    repo = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    model, cfg = load_checkpoint(os.path.join(repo, ck_rel))
    window = cfg["window_size"]
    columns = cfg["input_columns"]
    mean = torch.tensor(cfg["normalization"]["mean"], dtype=torch.float32)
    std = torch.tensor(cfg["normalization"]["std"], dtype=torch.float32)
    scale, offset = cfg["output_scaling"]["scale"], cfg["output_scaling"]["offset"]
    with open(dump, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    idx = [header.index(c) for c in columns]
    pred_col = header.index("model.prediction") if "model.prediction" in header else None
    per = {}
    for r in rows:
        per.setdefault(r[1], []).append(r)
    windows, engine = [], []
    for sym in sorted(per):
        rs = sorted(per[sym], key=lambda r: r[0])
        for t in range(window - 1, len(rs)):
            w = [[r[i] for i in idx] for r in rs[t - window + 1:t + 1]]
            if any(v == "" for row in w for v in row):
                continue
            windows.append((sym, rs[t][0], [[float(v) for v in row] for row in w]))
            engine.append(float(rs[t][pred_col]) if pred_col is not None and rs[t][pred_col] != "" else None)
    x = torch.tensor([w for _, _, w in windows], dtype=torch.float32)
    with torch.no_grad():
        y = model((x - mean) / std)[:, 0].double().numpy() * scale + offset
    if any(e is not None for e in engine):
        diffs = [abs(e - p) for e, p in zip(engine, y) if e is not None]
        print("end-to-end: %d engine predictions vs PyTorch: max |diff| = %.3g" % (len(diffs), max(diffs)))
    picks = np.linspace(0, len(windows) - 1, cases).round().astype(int)
    golden = {
        "generator": "tools/make_model_goldens.py --example",
        "torch_version": torch.__version__,
        "checkpoint_dir": ck_rel,
        "window_size": window,
        "tolerance": 1e-5,
        "cases": [{"symbol": windows[i][0], "ts": windows[i][1], "inputs": windows[i][2], "expected": float(y[i])}
                  for i in picks],
    }
    out_dir = os.path.join(out_root, "example_" + os.path.basename(ck_rel.rstrip("/")))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(golden, f)
        f.write("\n")
    return out_dir


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "golden", "models"))
    ap.add_argument("--example", metavar="CHECKPOINT_DIR",
                    help="instead: golden cases for a shipped checkpoint (path relative to the repo root)")
    ap.add_argument("--dump", help="with --example: a replay frame dump holding the checkpoint's input columns")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.example:
        if not args.dump:
            ap.error("--example needs --dump")
        print("wrote", make_example(args.out, args.example, args.dump))
        return
    for seed, (name, n_in, hidden, layers, bidir, window, extra) in enumerate(ARCHITECTURES):
        d = make(args.out, name, n_in, hidden, layers, bidir, window, extra, 1000 + seed)
        print("wrote", d)


if __name__ == "__main__":
    main()
