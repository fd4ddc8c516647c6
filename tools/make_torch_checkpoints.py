#!/usr/bin/python3
"""Regenerates the torch.save fixtures under tests/golden/models/torch/.

Each case directory holds a checkpoint exactly as a training script writes it
with torch.save (one of the shapes the engine reads), its metadata JSON, the
same weights as a portable export (reference/: config.json +
weights.safetensors, from tools/export_bilstm.py) and PyTorch's outputs on a few
fixed windows (cases.json). The C++ test (tests/unit/models/torch_checkpoint_test.cpp)
loads each one, matches PyTorch to 1e-5 and the portable export bit for bit.

hostile/ holds files that must be refused with a clear error, never run: a
pickle calling os.system, a REDUCE of a storage class, a whole pickled module,
a truncated zip, a zip entry declaring 4 GiB, a corrupt storage (bad CRC),
storages that are too large or too short for their tensors, a view of 2^40
elements, an int64 tensor, a dict with no state_dict, the legacy (pre-zip)
format.

    /usr/bin/python3 tools/make_torch_checkpoints.py [--out tests/golden/models/torch]

Needs Debian's python3-torch (run with /usr/bin/python3); the test suite does not.
"""

import argparse
import json
import os
import shutil
import struct
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_bilstm  # noqa: E402
from export_bilstm import export_state_dict, write_meta  # noqa: E402

CASES_PER_CHECKPOINT = 3

# A file the os.system fixture would create if its pickle were ever run.
PWNED_MARKER = "/tmp/af_torch_checkpoint_pwned"


class LstmRegressor(nn.Module):
    """The model shape the engine runs: fc(lstm(x)[0][:, -1, :])."""

    def __init__(self, inputs, hidden, layers, bidirectional, bias=True):
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional,
                            bias=bias)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1, :])


def trained(model, n_in, seed):
    """`model` after two Adam steps on random data, and its optimizer: a real
    optimizer state (exp_avg, exp_avg_sq, step tensors) for the checkpoints."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    dtype = next(model.parameters()).dtype
    for _ in range(2):
        x = torch.randn(4, 5, n_in, dtype=dtype)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model, opt


def make_cases(model, n_in, window, mean, std, scale, offset, rng, dtype=torch.float32):
    """PyTorch's predictions on fixed windows: (raw - mean) / std through the
    model in `dtype` (float64 for a checkpoint trained in double)."""
    cases = []
    for _ in range(CASES_PER_CHECKPOINT):
        raw = np.round(mean + std * rng.normal(0, 1.5, (window, n_in)), 6)
        x = (torch.tensor(raw, dtype=dtype) - torch.tensor(mean, dtype=dtype)) / torch.tensor(std, dtype=dtype)
        with torch.no_grad():
            y = float(model(x.unsqueeze(0))[0, 0])
        cases.append({"inputs": raw.tolist(), "expected": y * scale + offset})
    return cases


def write_case(out_dir, spec, model, cases, sd_for_reference, ref_dtype):
    """cases.json plus the reference export of the same weights."""
    export_state_dict(sd_for_reference, spec["columns"], os.path.join(out_dir, "reference"), mean=spec["mean"],
                      std=spec["std"], output_scale=spec["scale"], output_offset=spec["offset"],
                      window_size=spec["window"], dtype=ref_dtype)
    golden = {
        "generator": "tools/make_torch_checkpoints.py",
        "torch_version": torch.__version__,
        "checkpoint": spec["file"],
        "state_dict_key": spec["key"],
        "other_keys": spec["other_keys"],
        "window_size": spec["window"],
        "tolerance": 1e-5,
        "cases": cases,
    }
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


def new_spec(name, n_in, window, rng, file, key, scale=1.0, offset=0.0):
    return {
        "name": name, "n_in": n_in, "window": window, "file": file, "key": key,
        "columns": ["%s_x%d" % (name, i) for i in range(n_in)],
        "mean": rng.normal(0, 5, n_in), "std": rng.uniform(0.5, 3.0, n_in),
        "scale": scale, "offset": offset, "other_keys": [],
    }


def case_dir(root, name):
    d = os.path.join(root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def make_bare_f32(root, seed):
    """torch.save(model.state_dict(), "model.pt"); metadata by the one-line call."""
    rng = np.random.default_rng(seed)
    spec = new_spec("bare_f32", 4, 10, rng, "model.pt", "")
    torch.manual_seed(seed)
    model, _ = trained(LstmRegressor(4, 8, 2, True), 4, seed)
    d = case_dir(root, spec["name"])
    path = os.path.join(d, spec["file"])
    torch.save(model.state_dict(), path)
    write_meta(path, spec["columns"], model, mean=spec["mean"], std=spec["std"], window_size=spec["window"])
    write_case(d, spec, model, make_cases(model, 4, 10, spec["mean"], spec["std"], 1.0, 0.0, rng),
               model.state_dict(), "F32")


def make_state_dict_f64(root, seed):
    """A model trained in double, saved with its optimizer and hyper-parameters
    under "state_dict"; metadata by the command line (--meta-only)."""
    rng = np.random.default_rng(seed)
    spec = new_spec("state_dict_f64", 3, 7, rng, "checkpoint.pth", "state_dict")
    torch.manual_seed(seed)
    model, opt = trained(LstmRegressor(3, 6, 1, False).double(), 3, seed)
    d = case_dir(root, spec["name"])
    path = os.path.join(d, spec["file"])
    saved = {
        "epoch": 7,
        "state_dict": model.state_dict(),
        "optimizer": opt.state_dict(),
        "loss": 0.123,
        "hparams": {"hidden": 6, "layers": 1, "lr": 1e-2, "columns": spec["columns"], "betas": (0.9, 0.999),
                    "note": None, "shuffle": True, "big": 2 ** 40, "negative": -3},
    }
    torch.save(saved, path)
    spec["other_keys"] = ["epoch", "optimizer", "loss", "hparams"]
    argv = [path, "--meta-only", "--columns", ",".join(spec["columns"]),
            "--mean", ",".join(repr(float(x)) for x in spec["mean"]),
            "--std", ",".join(repr(float(x)) for x in spec["std"]), "--window-size", str(spec["window"])]
    if export_bilstm.main(argv) != 0:
        raise SystemExit("export_bilstm.py --meta-only failed")
    cases = make_cases(model, 3, 7, spec["mean"], spec["std"], 1.0, 0.0, rng, dtype=torch.float64)
    write_case(d, spec, model, cases, model.state_dict(), "F64")


def make_model_state_dict_f16(root, seed):
    """Half-precision weights under "model_state_dict" beside the optimizer;
    metadata without the architecture (the engine infers it from the shapes)."""
    rng = np.random.default_rng(seed)
    spec = new_spec("model_state_dict_f16", 5, 6, rng, "best.pt", "model_state_dict")
    torch.manual_seed(seed)
    model, opt = trained(LstmRegressor(5, 4, 1, True), 5, seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())  # the float32 model PyTorch runs after loading the half weights
    d = case_dir(root, spec["name"])
    path = os.path.join(d, spec["file"])
    half = OrderedDict((k, v.half()) for k, v in model.state_dict().items())
    torch.save({"epoch": 3, "model_state_dict": half, "optimizer_state_dict": opt.state_dict(),
                "scheduler": {"step_size": 10, "gamma": 0.5, "last_epoch": 3}}, path)
    spec["other_keys"] = ["epoch", "optimizer_state_dict", "scheduler"]
    meta = write_meta(path, spec["columns"], model, mean=spec["mean"], std=spec["std"], window_size=spec["window"])
    del meta["architecture"]
    with open(export_bilstm.meta_path(path), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    write_case(d, spec, model, make_cases(model, 5, 6, spec["mean"], spec["std"], 1.0, 0.0, rng), half, "F16")


def make_model_bf16(root, seed):
    """bfloat16 weights of a 2-layer LSTM without biases under "model", with
    output scaling."""
    rng = np.random.default_rng(seed)
    spec = new_spec("model_bf16", 3, 5, rng, "weights.pt", "model", scale=2.0, offset=-0.5)
    torch.manual_seed(seed)
    model, _ = trained(LstmRegressor(3, 5, 2, False, bias=False), 3, seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.bfloat16().float())
    d = case_dir(root, spec["name"])
    path = os.path.join(d, spec["file"])
    bf16 = OrderedDict((k, v.bfloat16()) for k, v in model.state_dict().items())
    torch.save({"model": bf16, "epoch": 1, "global_step": 100}, path)
    spec["other_keys"] = ["epoch", "global_step"]
    write_meta(path, spec["columns"], model, mean=spec["mean"], std=spec["std"], output_scale=2.0,
               output_offset=-0.5, window_size=spec["window"])
    cases = make_cases(model, 3, 5, spec["mean"], spec["std"], 2.0, -0.5, rng)
    write_case(d, spec, model, cases, bf16, "BF16")


def make_views_f32(root, seed):
    """A state_dict whose tensors are views, as torch.save writes them: slices
    of one shared storage (non-zero offsets), a transposed matrix (strides
    [1, rows]) and an expanded constant (stride 0)."""
    rng = np.random.default_rng(seed)
    spec = new_spec("views_f32", 3, 8, rng, "model.pt", "")
    torch.manual_seed(seed)
    model, _ = trained(LstmRegressor(3, 4, 1, True), 3, seed)
    with torch.no_grad():
        model.lstm.bias_hh_l0.fill_(0.125)
    sd = model.state_dict()
    flat = torch.cat([v.reshape(-1) for v in sd.values()])
    views, at = OrderedDict(), 0
    for k, v in sd.items():
        views[k] = flat[at:at + v.numel()].view(v.shape)
        at += v.numel()
    hh = sd["lstm.weight_hh_l0_reverse"]
    views["lstm.weight_hh_l0_reverse"] = hh.t().contiguous().t()
    views["lstm.bias_hh_l0"] = torch.full((1,), 0.125).expand(sd["lstm.bias_hh_l0"].shape)
    assert views["lstm.weight_ih_l0_reverse"].storage_offset() > 0
    assert not views["lstm.weight_hh_l0_reverse"].is_contiguous()
    assert views["lstm.bias_hh_l0"].stride() == (0,)
    d = case_dir(root, spec["name"])
    path = os.path.join(d, spec["file"])
    torch.save(views, path)
    back = torch.load(path)
    assert back["lstm.weight_ih_l0_reverse"].storage_offset() > 0, "torch.save did not keep the offset"
    assert not back["lstm.weight_hh_l0_reverse"].is_contiguous(), "torch.save did not keep the strides"
    assert back["lstm.bias_hh_l0"].stride() == (0,), "torch.save did not keep the stride 0"
    write_meta(path, spec["columns"], model, mean=spec["mean"], std=spec["std"], window_size=spec["window"])
    write_case(d, spec, model, make_cases(model, 3, 8, spec["mean"], spec["std"], 1.0, 0.0, rng), sd, "F32")


def make_protocol5_f32(root, seed):
    """Saved with pickle_protocol=5 (FRAME, MEMOIZE, STACK_GLOBAL,
    SHORT_BINUNICODE) from an nn.DataParallel wrapper ("module." names)."""
    rng = np.random.default_rng(seed)
    spec = new_spec("protocol5_f32", 2, 4, rng, "dp.pt", "")
    torch.manual_seed(seed)
    model, _ = trained(LstmRegressor(2, 3, 1, False), 2, seed)
    d = case_dir(root, spec["name"])
    path = os.path.join(d, spec["file"])
    torch.save(nn.DataParallel(model).state_dict(), path, pickle_protocol=5)
    write_meta(path, spec["columns"], model, mean=spec["mean"], std=spec["std"], window_size=spec["window"])
    write_case(d, spec, model, make_cases(model, 2, 4, spec["mean"], spec["std"], 1.0, 0.0, rng),
               model.state_dict(), "F32")


# ---- hostile files: pickles written opcode by opcode ----

def p_str(s):
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def p_int(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if -2 ** 31 <= v < 2 ** 31:
        return b"J" + struct.pack("<i", v)
    return b"\x8a\x08" + struct.pack("<q", v)


def p_tuple(items):
    return b"(" + b"".join(items) + b"t"


def p_tensor(key, numel, offset, size, stride, storage="FloatStorage"):
    """torch._utils._rebuild_tensor_v2(<storage key>, offset, size, stride, False, OrderedDict())."""
    pid = p_tuple([p_str("storage"), b"ctorch\n" + storage.encode() + b"\n", p_str(key), p_str("cpu"), p_int(numel)])
    args = p_tuple([pid + b"Q", p_int(offset), p_tuple([p_int(x) for x in size]),
                    p_tuple([p_int(x) for x in stride]), b"\x89", b"ccollections\nOrderedDict\n)R"])
    return b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"R"


def p_dict(pairs):
    return b"}(" + b"".join(p_str(k) + v for k, v in pairs) + b"u"


def write_torch_zip(path, pickle_bytes, storages=None):
    """The torch.save zip layout around `pickle_bytes`: <stem>/data.pkl,
    <stem>/data/<key>, <stem>/version (stored, not compressed, as torch does)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    records = [("data.pkl", b"\x80\x02" + pickle_bytes + b".")]
    records += [("data/" + key, data) for key, data in (storages or {}).items()]
    records.append(("version", b"3\n"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in records:
            z.writestr(zipfile.ZipInfo(stem + "/" + name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def patch_declared_size(path, entry, size):
    """Sets the uncompressed size `entry` declares in the central directory (the
    local header of a torch.save record defers its sizes to a data descriptor,
    which libzip does not compare), leaving its data as it is."""
    raw = bytearray(open(path, "rb").read())
    name = entry.encode()
    central = 0
    while True:
        central = raw.find(b"PK\x01\x02", central)
        assert central >= 0, "entry not in the central directory"
        n = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46:central + 46 + n] == name:
            break
        central += 4
    struct.pack_into("<I", raw, central + 24, size)
    open(path, "wb").write(bytes(raw))


def data_offset(path, entry):
    """Where `entry`'s data starts: after its local header's own name and extra
    field (torch pads the latter so that data is 64-byte aligned)."""
    raw = open(path, "rb").read()
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(entry).header_offset
    name_len, extra_len = struct.unpack_from("<HH", raw, local + 26)
    return local + 30 + name_len + extra_len


def make_hostile(root, bare_pt):
    d = os.path.join(root, "hostile")
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    # os.system("touch MARKER") as the state_dict: the classic pickle exploit.
    call = b"cos\nsystem\n" + p_tuple([p_str("touch " + PWNED_MARKER)]) + b"R"
    write_torch_zip(os.path.join(d, "os_system.pt"), p_dict([("state_dict", call)]))
    # REDUCE of an allowed global that is not a callable: torch.FloatStorage(...).
    call = b"ctorch\nFloatStorage\n" + p_tuple([p_int(4)]) + b"R"
    write_torch_zip(os.path.join(d, "reduce_storage.pt"), p_dict([("weight", call)]))
    # A whole module rather than its state_dict.
    torch.save(LstmRegressor(2, 2, 1, False), os.path.join(d, "whole_module.pt"))
    # A zip cut in the middle.
    data = open(bare_pt, "rb").read()
    open(os.path.join(d, "truncated.pt"), "wb").write(data[:len(data) * 6 // 10])
    # data.pkl declaring 4 GiB - 16 bytes (the records keep the original's stem).
    stem = os.path.splitext(os.path.basename(bare_pt))[0]
    shutil.copy(bare_pt, os.path.join(d, "huge_declared.pt"))
    patch_declared_size(os.path.join(d, "huge_declared.pt"), stem + "/data.pkl", 0xFFFFFFF0)
    # A storage whose bytes no longer match their CRC.
    raw = bytearray(data)
    raw[data_offset(bare_pt, stem + "/data/0") + 5] ^= 0x40
    open(os.path.join(d, "bad_crc.pt"), "wb").write(bytes(raw))
    # fc.weight [1, 17] over a storage of 16 floats.
    four = struct.pack("<16f", *([0.5] * 16))
    write_torch_zip(os.path.join(d, "short_storage.pt"),
                    p_dict([("fc.weight", p_tensor("0", 16, 0, (1, 17), (17, 1)))]), {"0": four})
    # The same storage named with an offset that runs past it.
    write_torch_zip(os.path.join(d, "offset_past_end.pt"),
                    p_dict([("fc.bias", p_tensor("0", 16, 16, (1,), (1,)))]), {"0": four})
    # A persistent id declaring 2^50 elements.
    write_torch_zip(os.path.join(d, "huge_numel.pt"),
                    p_dict([("fc.weight", p_tensor("0", 2 ** 50, 0, (1, 16), (16, 1)))]), {"0": four})
    # A stride-0 view of 2^40 elements over one float.
    write_torch_zip(os.path.join(d, "huge_view.pt"),
                    p_dict([("fc.weight", p_tensor("0", 1, 0, (2 ** 20, 2 ** 20), (0, 0)))]),
                    {"0": struct.pack("<f", 1.0)})
    # A storage entry shorter than its persistent id says.
    write_torch_zip(os.path.join(d, "storage_entry_short.pt"),
                    p_dict([("fc.weight", p_tensor("0", 16, 0, (1, 16), (16, 1)))]), {"0": four[:60]})
    # A dict without a state_dict under a key the engine knows.
    torch.save({"epoch": 3, "net": LstmRegressor(2, 2, 1, False).state_dict()}, os.path.join(d, "no_state_dict.pt"))
    # An integer tensor (a BatchNorm's num_batches_tracked): not a float storage.
    torch.save({"w": torch.zeros(2, dtype=torch.long)}, os.path.join(d, "long_tensor.pt"))
    # The pre-1.6 format.
    torch.save(OrderedDict(w=torch.zeros(2)), os.path.join(d, "legacy.pt"), _use_new_zipfile_serialization=False)
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "golden", "models", "torch"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    makers = [make_bare_f32, make_state_dict_f64, make_model_state_dict_f16, make_model_bf16, make_views_f32,
              make_protocol5_f32]
    for seed, make in enumerate(makers):
        make(args.out, 2000 + seed)
        print("wrote", make.__name__[len("make_"):])
    print("wrote", make_hostile(args.out, os.path.join(args.out, "bare_f32", "model.pt")))


if __name__ == "__main__":
    main()
