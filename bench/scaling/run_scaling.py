#!/usr/bin/python3
"""Scaling curves (issue 8): CPU cost per event against
  * the number of symbols (1 to 500),
  * the frame length (warmup rows 100 to 100,000; the seed trims its frame to it),
  * the number of features (the bilstm example's 19 columns repeated k times,
    feeding models.linear; engine only, the baselines implement only momentum+RSI),
for the engine (bench/e2e/engine_bench, decoded bars, no sink), the seed's pandas
loop (bench/baseline/seed_loop.py) and the pure-Python incremental loop; and
whole-process events/s against `replay --threads N` (20 symbols x one month of 1m
bars, warm decoded-bar cache, CSV sink; only when `replay --help` lists --threads).
Writes bench/scaling/results.json (or --out) and, with --plot, docs/perf_*.png.
Run by hand; takes a few CPU minutes (the pandas loop dominates).
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bench", "e2e"))
import run_e2e  # noqa: E402
import run_table  # noqa: E402

MINIMAL = os.path.join(REPO, "examples/08_signal_generation/minimal_offline.yaml")
BILSTM = os.path.join(REPO, "examples/models/bilstm_example.yaml")
BILSTM_COLUMNS = (["rsi6", "rsi12", "rsi24"] + [f"ma{w}rocp" for w in (5, 10, 20, 60)] +
                  [f"level{w}_{k}" for w in (10, 20, 60) for k in ("pos", "support", "resistance")] +
                  ["mom1", "mom4", "mom12"])


def kv(text, prefix):
    return run_e2e.kv_line(text, prefix)


def merge(old_rows, new_rows, xkey):
    """New points replace or extend the old ones of the same x, series by series."""
    by_x = {r[xkey]: dict(r) for r in old_rows or []}
    for r in new_rows:
        by_x.setdefault(r[xkey], {}).update(r)
    return [by_x[x] for x in sorted(by_x)]


def engine_point(bench, pipeline, events, warmup_rows, repeat):
    best = None
    for _ in range(repeat):
        p = subprocess.run([bench, "--pipeline", pipeline, "--events", str(events), "--warmup-rows",
                            str(warmup_rows)], cwd=REPO, capture_output=True, text=True, check=True)
        r = kv(p.stdout, "bench=engine")
        if best is None or float(r["ns_per_event"]) < float(best["ns_per_event"]):
            best = r
    return {"ns_per_event": float(best["ns_per_event"]), "p50_ns": float(best["latency_p50_ns"]),
            "p99_ns": float(best["latency_p99_ns"]), "peak_rss_kb": int(best["peak_rss_kb"]),
            "events": int(best["events"])}


def baseline_point(script, mirror, symbols, lookback_days, max_events, frame_rows=None):
    cmd = ["/usr/bin/python3", os.path.join(REPO, "bench/baseline", script), "--data", mirror, "--symbols",
           ",".join(symbols), "--lookback-days", str(lookback_days), "--out", "/tmp/af_perf_scaling_pred.csv"]
    if max_events:
        cmd += ["--max-events", str(max_events)]
    if frame_rows:
        cmd += ["--frame-rows", str(frame_rows)]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    r = kv(p.stdout, "baseline=")
    return {"ns_per_event": 1000.0 * float(r["us_per_event"]), "events": int(r["events"])}


def synth(af, workdir, symbols, date_from, date_to):
    d = os.path.join(workdir, f"mirror_{len(symbols)}_{date_from}_{date_to}")
    if not os.path.isdir(d):
        subprocess.run([af, "synth-data", "--out", d, "--symbols", ",".join(symbols), "--interval", "1h",
                        "--from", date_from, "--to", date_to, "--seed", "42"], check=True, capture_output=True)
    return d


def features_pipeline(path, k):
    """The bilstm example's feature steps repeated k times (columns suffixed _rN),
    all feeding models.linear instead of the BiLSTM (whose checkpoint wants 19)."""
    text = open(BILSTM).read()
    head, rest = text.split("  - features:", 1)
    feats, model = ("  - features:" + rest).split("  - model:", 1)
    blocks = []
    cols = []
    for r in range(k):
        suffix = "" if r == 0 else f"_r{r}"
        blocks.append(re.sub(r'"(\w+\{window\}\w*)"', lambda m: '"' + m.group(1) + suffix + '"', feats))
        cols += [c + suffix for c in BILSTM_COLUMNS]
    weights = ", ".join("0.01" for _ in cols)
    model_text = ("  - model:\n      using: models.linear\n      inputs:\n        frame: ohlcv_2h\n"
                  "      outputs:\n        columns: [model.prediction]\n      params:\n"
                  f"        features: [{', '.join(cols)}]\n        weights: [{weights}]\n"
                  "        bias: 0.0\n        activation: tanh\n        output_col: model.prediction\n")
    head = re.sub(r"(using: sinks\.csv_append\s*\n\s*params:\s*\n\s*path:\s*)(\S+)", r"\g<1>/dev/null", head)
    with open(path, "w") as f:
        f.write(head + "".join(blocks) + model_text)
    return len(cols)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alpha-forge", default=os.path.join(REPO, "build/perf/src/app/alpha_forge"))
    ap.add_argument("--engine-bench", default=os.path.join(REPO, "build/perf/bench/e2e/engine_bench"))
    ap.add_argument("--workdir", default="/tmp/af_perf_scaling")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--events", type=int, default=300_000, help="engine events per point")
    ap.add_argument("--baseline-events", type=int, default=20, help="pandas-loop events per point")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="symbols,frame,features,threads")
    ap.add_argument("--threads", default="1,2", help="replay --threads values of the threads curve")
    ap.add_argument("--plot", action="store_true")
    ap.add_argument("--no-engine", action="store_true", help="baselines only (merged into --out)")
    ap.add_argument("--no-baseline", action="store_true", help="engine only (merged into --out)")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    res = json.load(open(a.out)) if os.path.exists(a.out) else {}
    only = a.only.split(",")
    if only != ["threads"]:  # the threads points carry their own load
        res["load1_start"] = os.getloadavg()[0]

    if "symbols" in only:
        rows = []
        for n in (1, 10, 100, 500):
            syms = [f"S{i:03d}USDT" for i in range(n)]
            pipe = os.path.join(a.workdir, f"minimal_{n}.yaml")
            run_e2e.write_pipeline(MINIMAL, pipe, syms, "1h", "/dev/null")
            row = {"symbols": n}
            if not a.no_engine:
                row["engine"] = engine_point(a.engine_bench, pipe, a.events, 720, a.repeat)
            if not a.no_baseline:
                mirror = synth(a.alpha_forge, a.workdir, syms, "2025-01-01", "2025-02-05")
                row["seed"] = baseline_point("seed_loop.py", mirror, syms, 30, a.baseline_events)
                row["incremental"] = baseline_point("incremental_loop.py", mirror, syms, 30, 0)
            print("symbols", json.dumps(row), flush=True)
            rows.append(row)
        res["symbols"] = merge(res.get("symbols"), rows, "symbols")

    if "frame" in only:
        rows = []
        syms = ["BTCUSDT", "ETHUSDT"]
        # 100,000 rows of 1h = 4167 days: synthetic data from 2013.
        mirror = None if a.no_baseline else synth(a.alpha_forge, a.workdir, syms, "2013-01-01", "2024-07-01")
        for w in (100, 1000, 10_000, 100_000):
            days = math.ceil(w / 24)
            pipe = os.path.join(a.workdir, f"minimal_frame_{w}.yaml")
            run_e2e.write_pipeline(MINIMAL, pipe, syms, "1h", "/dev/null", lookback_days=days)
            row = {"frame_rows": w}
            if not a.no_engine:
                row["engine"] = engine_point(a.engine_bench, pipe, a.events, w, a.repeat)
            if not a.no_baseline:
                row["seed"] = baseline_point("seed_loop.py", mirror, syms, days, a.baseline_events, frame_rows=w)
                row["incremental"] = baseline_point("incremental_loop.py", mirror, syms, days, 2000)
            print("frame", json.dumps(row), flush=True)
            rows.append(row)
        res["frame"] = merge(res.get("frame"), rows, "frame_rows")

    if "features" in only and not a.no_engine:
        rows = []
        for k in (1, 2, 4, 8, 16):
            pipe = os.path.join(a.workdir, f"features_{k}.yaml")
            n = features_pipeline(pipe, k)
            row = {"repeat": k, "features": n,
                   "engine": engine_point(a.engine_bench, pipe, a.events, 2880, a.repeat)}
            print("features", json.dumps(row), flush=True)
            rows.append(row)
        res["features"] = merge(res.get("features"), rows, "repeat")

    if "threads" in only and not a.no_engine:
        if "--threads" not in run_table.replay_help(a.alpha_forge):
            print("threads: skipped, this alpha_forge's replay has no --threads", flush=True)
        else:
            syms = [f"S{i:03d}USDT" for i in range(20)]
            mirror = os.path.join(a.workdir, "mirror_20_1m_2025-01")
            if not os.path.isdir(mirror):
                subprocess.run([a.alpha_forge, "synth-data", "--out", mirror, "--symbols", ",".join(syms),
                                "--interval", "1m", "--from", "2025-01-01", "--to", "2025-02-01", "--seed", "42"],
                               check=True, capture_output=True)
            pipe = os.path.join(a.workdir, "minimal_20_1m.yaml")
            out_csv = os.path.join(a.workdir, "threads_predictions.csv")
            run_e2e.write_pipeline(MINIMAL, pipe, syms, "1m", out_csv, 1)
            # One untimed run fills the decoded-bar cache: every point is a warm replay.
            subprocess.run([a.alpha_forge, "replay", pipe, "--data", mirror, "--fresh"], cwd=REPO, check=True,
                           capture_output=True)
            rows = []
            for n in (int(x) for x in a.threads.split(",")):
                r = run_table.run_replay(a.alpha_forge, pipe, mirror, out_csv, ["--threads", str(n)], a.repeat)
                row = {"threads": n, "replay": {"events": r["events"], "cpu_seconds": r["cpu_s"],
                                                "wall_seconds": r["wall_s"],
                                                "events_per_sec_wall": r["events"] / r["wall_s"],
                                                "events_per_sec_cpu": r["events"] / r["cpu_s"],
                                                "peak_rss_kb": r["rss_kb"], "load1": os.getloadavg()[0]}}
                print("threads", json.dumps(row), flush=True)
                rows.append(row)
            res["threads"] = merge(res.get("threads"), rows, "threads")

    if only != ["threads"]:
        res["load1_end"] = os.getloadavg()[0]
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    if a.plot:
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "plot_scaling.py"), a.out], check=True)


if __name__ == "__main__":
    main()
