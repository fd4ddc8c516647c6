#!/usr/bin/python3
"""Export a PyTorch (Bi)LSTM regressor to alpha_forge's checkpoint format.

The model shape this covers is the common one: a module with `.lstm` (an
`nn.LSTM` with `batch_first=True`, any number of layers, uni- or bidirectional,
no projection) and `.fc` (an `nn.Linear` with one output), whose forward is
`fc(lstm(x)[0][:, -1, :])`. The export is a directory with

  config.json          architecture, input column names in order, per-column
                       normalisation (x - mean) / std, output scaling, version
  weights.safetensors  the state_dict tensors (lstm.*, fc.*), PyTorch names and layout

read by `models.pytorch_bilstm_predictor` (format: docs/models.md).

The predictor also reads what torch.save wrote directly (a state_dict, bare or
under "state_dict", "model_state_dict" or "model"), given the metadata the
weights do not carry: `<stem>.json` beside `<stem>.pt`, written here with
`--meta-only` or `write_meta`.

From Python:
    from export_bilstm import export, write_meta
    export(model, ["rsi6", "rsi12", ...], "models/mine", mean=[...], std=[...])
    torch.save({"epoch": e, "model_state_dict": model.state_dict()}, "models/mine/best.pt")
    write_meta("models/mine/best.pt", ["rsi6", "rsi12", ...], model, mean=[...], std=[...], window_size=30)

From the shell (architecture read from the tensor shapes):
    /usr/bin/python3 tools/export_bilstm.py STATE_DICT.pt --columns c1,c2,... --out DIR \
        [--mean m1,m2,...] [--std s1,s2,...] [--window-size 30] [--scale 1] [--offset 0]
    /usr/bin/python3 tools/export_bilstm.py CHECKPOINT.pt --meta-only --columns c1,c2,... \
        [--mean ...] [--std ...] [--window-size 30]       # writes CHECKPOINT.json beside it

Needs numpy and, to read a .pt file or a module, torch (Debian: python3-torch).
The safetensors file is written here by hand (there is no Debian package for the
`safetensors` library; the format is an 8-byte little-endian header length, a
JSON header, then the raw data).
"""

import argparse
import json
import os
import re
import struct
import sys

import numpy as np

FORMAT_VERSION = 1

_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}


def write_safetensors(path, tensors, metadata=None, dtype="F32"):
    """Writes {name: array} to `path` in the safetensors format, all in `dtype`
    (F32, F64, F16 or BF16), tensors in name order."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(np.asarray(tensors[name]))
        if dtype == "BF16":
            bits = np.ascontiguousarray(arr.astype("<f4")).view("<u4")
            # round to nearest even on the upper 16 bits
            rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
            blob = rounded.tobytes()
        else:
            blob = arr.astype(_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def _to_numpy(t):
    if hasattr(t, "detach"):
        return t.detach().cpu().to(dtype=__import__("torch").float32).numpy()
    return np.asarray(t, dtype=np.float32)


def architecture_from_state_dict(sd):
    """Infers the LSTM architecture from `lstm.*` and `fc.*` tensor shapes."""
    if "lstm.weight_ih_l0" not in sd:
        raise ValueError("no 'lstm.weight_ih_l0' in the state_dict: expected a module with .lstm and .fc")
    if any(re.match(r"lstm\.weight_hr_l\d+", k) for k in sd):
        raise ValueError("LSTM with proj_size is not supported")
    w0 = sd["lstm.weight_ih_l0"]
    gates, input_size = int(w0.shape[0]), int(w0.shape[1])
    if gates % 4:
        raise ValueError("lstm.weight_ih_l0 has %d rows, not a multiple of 4" % gates)
    layers = 0
    while "lstm.weight_ih_l%d" % layers in sd:
        layers += 1
    bidirectional = "lstm.weight_ih_l0_reverse" in sd
    if "fc.weight" not in sd or "fc.bias" not in sd:
        raise ValueError("no fc.weight / fc.bias in the state_dict: expected an nn.Linear head named fc")
    out_features = int(sd["fc.weight"].shape[0])
    if out_features != 1:
        raise ValueError("fc has %d outputs; the predictor emits one" % out_features)
    return {
        "type": "lstm",
        "input_size": input_size,
        "hidden_size": gates // 4,
        "num_layers": layers,
        "bidirectional": bidirectional,
        "bias": "lstm.bias_ih_l0" in sd,
        "batch_first": True,
        "head": {"type": "linear", "in_features": int(sd["fc.weight"].shape[1]), "out_features": 1},
    }


STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model")


def state_dict_of(obj):
    """The state_dict in what torch.load returned: a module's, the dict under a
    common key (the order the engine looks in), or `obj` itself."""
    if hasattr(obj, "state_dict"):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in STATE_DICT_KEYS:
            if isinstance(obj.get(key), dict):
                return obj[key]
    return obj


def _lstm_tensors(state_dict):
    sd = {}
    for k, v in state_dict.items():
        k = k[len("module."):] if k.startswith("module.") else k  # DataParallel wrappers
        if k.startswith("lstm.") or k.startswith("fc."):
            sd[k] = _to_numpy(v)
    return sd


def _config(arch, input_columns, mean, std, output_scale, output_offset, window_size):
    """The JSON both formats share: architecture, columns, normalisation, scaling, window."""
    columns = list(input_columns)
    if len(columns) != arch["input_size"]:
        raise ValueError("%d input columns given but the LSTM takes %d inputs" % (len(columns), arch["input_size"]))
    if len(set(columns)) != len(columns):
        raise ValueError("input columns are not unique")
    normalization = None
    if mean is not None or std is not None:
        mean = [0.0] * len(columns) if mean is None else [float(x) for x in np.asarray(mean).ravel()]
        std = [1.0] * len(columns) if std is None else [float(x) for x in np.asarray(std).ravel()]
        if len(mean) != len(columns) or len(std) != len(columns):
            raise ValueError("mean and std need one value per input column")
        if any(not (s > 0) for s in std):
            raise ValueError("std must be > 0 for every column")
        normalization = {"mean": mean, "std": std}
    return {
        "format": "alpha_forge.bilstm",
        "version": FORMAT_VERSION,
        "architecture": arch,
        "input_columns": columns,
        "normalization": normalization,
        "output_scaling": {"scale": float(output_scale), "offset": float(output_offset)},
        "window_size": int(window_size) if window_size is not None else None,
    }


def export_state_dict(state_dict, input_columns, out_dir, mean=None, std=None, output_scale=1.0,
                      output_offset=0.0, window_size=None, dtype="F32", metadata=None):
    """Exports a state_dict ({name: tensor or array}) of the .lstm/.fc shape."""
    sd = _lstm_tensors(state_dict)
    config = _config(architecture_from_state_dict(sd), input_columns, mean, std, output_scale, output_offset,
                     window_size)
    config["weights"] = "weights.safetensors"
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "weights.safetensors"), sd,
                      metadata=dict(metadata or {}, format="pt"), dtype=dtype)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    return config


def export(model, input_columns, out_dir, mean=None, std=None, output_scale=1.0, output_offset=0.0,
           window_size=None, dtype="F32"):
    """Exports `model` (with .lstm and .fc, forward = fc(lstm(x)[0][:, -1, :]))."""
    lstm = getattr(model, "lstm", None)
    if lstm is None or getattr(model, "fc", None) is None:
        raise ValueError("the model needs .lstm (nn.LSTM) and .fc (nn.Linear)")
    if not getattr(lstm, "batch_first", False):
        raise ValueError("the LSTM must be batch_first=True (the predictor feeds [batch, time, features])")
    if getattr(lstm, "proj_size", 0):
        raise ValueError("LSTM with proj_size is not supported")
    return export_state_dict(model.state_dict(), input_columns, out_dir, mean, std, output_scale, output_offset,
                             window_size, dtype)


def meta_path(checkpoint_path):
    """`<stem>.json` beside `<stem>.pt`: where the engine looks for a torch.save file's metadata."""
    return os.path.splitext(checkpoint_path)[0] + ".json"


def write_meta(checkpoint_path, input_columns, model=None, mean=None, std=None, output_scale=1.0,
               output_offset=0.0, window_size=None):
    """Writes the metadata of a torch.save checkpoint beside it (`<stem>.json`):
    the columns in the model's input order, normalisation, output scaling,
    window and the architecture, taken from `model` (a module or a state_dict)
    or, without one, from the checkpoint file itself."""
    if model is None:
        import torch
        model = torch.load(checkpoint_path, map_location="cpu")
    sd = _lstm_tensors(state_dict_of(model))
    meta = _config(architecture_from_state_dict(sd), input_columns, mean, std, output_scale, output_offset,
                   window_size)
    meta["format"] = "alpha_forge.bilstm_meta"
    path = meta_path(checkpoint_path)
    with open(path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return meta


def _floats(text):
    return None if text is None else [float(x) for x in text.split(",")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("state_dict", help="a .pt file: a state_dict, a dict holding one under 'state_dict', "
                                       "'model_state_dict' or 'model', or a whole module")
    ap.add_argument("--columns", required=True, help="input column names, comma-separated, in the model's order")
    ap.add_argument("--out", help="output directory (the export)")
    ap.add_argument("--meta-only", action="store_true",
                    help="instead of exporting, write the checkpoint's metadata beside it (STEM.json), "
                         "so that the engine reads the .pt file itself")
    ap.add_argument("--mean", help="per-column means, comma-separated")
    ap.add_argument("--std", help="per-column standard deviations, comma-separated")
    ap.add_argument("--window-size", type=int, help="window the model was trained on (checked at start-up)")
    ap.add_argument("--scale", type=float, default=1.0, help="prediction = head * scale + offset")
    ap.add_argument("--offset", type=float, default=0.0)
    ap.add_argument("--dtype", default="F32", choices=["F32", "F64", "F16", "BF16"])
    args = ap.parse_args(argv)
    if not args.meta_only and not args.out:
        ap.error("--out is required (or --meta-only)")
    import torch
    obj = state_dict_of(torch.load(args.state_dict, map_location="cpu"))
    try:
        if args.meta_only:
            config = write_meta(args.state_dict, args.columns.split(","), obj, _floats(args.mean), _floats(args.std),
                                args.scale, args.offset, args.window_size)
            written = meta_path(args.state_dict)
        else:
            config = export_state_dict(obj, args.columns.split(","), args.out, _floats(args.mean), _floats(args.std),
                                       args.scale, args.offset, args.window_size, args.dtype)
            written = args.out
    except ValueError as e:
        print("export_bilstm.py: error: %s" % e, file=sys.stderr)
        return 1
    a = config["architecture"]
    print("wrote %s: %d inputs, hidden %d, %d layer(s), %s" % (
        written, a["input_size"], a["hidden_size"], a["num_layers"],
        "bidirectional" if a["bidirectional"] else "unidirectional"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
