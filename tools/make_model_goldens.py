#!/usr/bin/python3
"""Regenerates the BiLSTM golden files under tests/golden/models/.

For each architecture below: a PyTorch model with seeded random weights is
exported with tools/export_bilstm.py, and PyTorch's float32 outputs on a few
fixed random input windows are written to cases.json next to the checkpoint.
The C++ test (tests/unit/models/bilstm_golden_test.cpp) loads each checkpoint
and must reproduce every output to 1e-5 absolute. The test suite needs no torch;
only running this script does (Debian: python3-torch, run with /usr/bin/python3).

    /usr/bin/python3 tools/make_model_goldens.py [--out tests/golden/models]
"""

import argparse
import json
import os
import shutil
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "golden", "models"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for seed, (name, n_in, hidden, layers, bidir, window, extra) in enumerate(ARCHITECTURES):
        d = make(args.out, name, n_in, hidden, layers, bidir, window, extra, 1000 + seed)
        print("wrote", d)


if __name__ == "__main__":
    main()
