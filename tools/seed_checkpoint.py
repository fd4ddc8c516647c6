#!/usr/bin/python3
"""Saves a BiLSTM checkpoint with torch.save, as a training script of the Python
original would, for one of the original's example pipelines (../shared/seed/):
a `.lstm` + `.fc` regressor over the given columns, its weights seeded (not
trained: the checkpoint shows that the pipeline runs it, not a signal), saved
either as a bare state_dict or as a training checkpoint (a dict holding
`model_state_dict` beside the epoch, the optimizer state and the loss), plus the
metadata JSON beside it (`<stem>.json`, tools/export_bilstm.py's write_meta).

    /usr/bin/python3 tools/seed_checkpoint.py OUT.pt --columns c1,c2,... --window-size 30 \
        [--mean ..] [--std ..] [--shape bare|training] [--hidden 16] [--layers 2] [--seed 7]

Needs Debian's python3-torch (run with /usr/bin/python3). Used by
tests/integration/replay/seed_examples_test.cpp.
"""

import argparse
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_bilstm import write_meta  # noqa: E402


class BiLstmRegressor(nn.Module):
    """fc(lstm(x)[0][:, -1, :]): the shape models.pytorch_bilstm_predictor runs."""

    def __init__(self, inputs, hidden, layers):
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, 1)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1, :])


def _floats(text):
    return None if text is None else [float(x) for x in text.split(",")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="the checkpoint to write, STEM.pt (STEM.json is written beside it)")
    ap.add_argument("--columns", required=True, help="input columns, comma-separated, in the model's order")
    ap.add_argument("--window-size", type=int, required=True)
    ap.add_argument("--mean", help="per-column means, comma-separated")
    ap.add_argument("--std", help="per-column standard deviations, comma-separated")
    ap.add_argument("--shape", choices=["bare", "training"], default="bare")
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    columns = args.columns.split(",")
    torch.manual_seed(args.seed)
    model = BiLstmRegressor(len(columns), args.hidden, args.layers).eval()
    if args.shape == "bare":
        torch.save(model.state_dict(), args.out)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.save({"epoch": 12, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
                    "loss": 0.25, "hparams": {"hidden": args.hidden, "layers": args.layers}}, args.out)
    write_meta(args.out, columns, model, mean=_floats(args.mean), std=_floats(args.std),
               window_size=args.window_size)
    print(args.out)


if __name__ == "__main__":
    main()
