#!/usr/bin/python3
"""End-to-end benchmark harness (issue 8).

For one pipeline and one synthetic Binance Vision mirror it runs, in one session:
  * `alpha_forge replay` under /usr/bin/time -v: events/s over CPU time
    (user+sys, whole process: startup, zip decode, compute, CSV sink), peak RSS;
  * `engine_bench` (bench/e2e/engine_bench.cpp) on the same pipeline: events/s
    from decoded bars and per-event compute latency p50/p99/p99.9;
  * with --baseline: bench/baseline/seed_loop.py (the seed's pandas loop) and
    bench/baseline/incremental_loop.py (pure-Python incremental) on the same
    mirror, checks their predictions against the engine's CSV, and prints the
    ratios.
Prints one key=value line and (with --json FILE or --json -) the same as JSON.
`signal` against the simulated exchange is not driven yet (see docs/performance.md).
Needs Debian's python3-pandas for --baseline. Run from anywhere; paths default
to the repository this file is in and build/perf.
"""

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, "build", "perf")


def run_timed(cmd, cwd=None, allow_failure=False):
    """Runs cmd under /usr/bin/time -v; returns (stdout, user+sys seconds, wall, peak RSS kB).
    CPU and wall are measured here to the microsecond (the children's rusage, a monotonic
    clock): time -v prints them to 10 ms, 5% of a 0.2 s replay. Peak RSS is time's.
    allow_failure: a non-zero exit is returned in the stdout text as `exit_status=N` (replay
    exits 1 when a sink lost records but still prints its summary)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=cwd, capture_output=True, text=True)
    wall_s = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0 and allow_failure:
        lost = re.search(r"(\d+) records lost", p.stderr)
        p.stdout += f"\nexit exit_status={p.returncode} sink_records_lost={lost.group(1) if lost else 0}\n"
    elif p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    err = p.stderr

    def field(name):
        m = re.search(re.escape(name) + r":\s*([0-9.:]+)", err)
        return m.group(1) if m else "0"

    rss = int(field("Maximum resident set size (kbytes)"))
    return p.stdout, cpu, wall_s, rss


def kv_line(text, prefix=None):
    """Parses the last `key=value ...` line (optionally starting with prefix)."""
    lines = [ln for ln in text.splitlines() if "=" in ln and (prefix is None or ln.startswith(prefix))]
    if not lines:
        return {}
    return dict(tok.split("=", 1) for tok in lines[-1].split() if "=" in tok)


def write_pipeline(src, dst, symbols, interval, sink_path, lookback_days=None):
    """A copy of pipeline SRC with universe, source interval, lookback and the CSV
    sink path replaced (text edits, so comments and order stay)."""
    text = open(src).read()
    text = re.sub(r"universe:\s*\[[^\]]*\]", "universe: [" + ", ".join(symbols) + "]", text)
    if interval:
        # The data step's interval; scheduling.interval too when it was the same
        # (no resample: predictions are on the source frame).
        m = re.search(r"using: data\.binance_futures[\s\S]*?interval:\s*(\S+)", text)
        old = m.group(1)
        text = re.sub(r"(using: data\.binance_futures[\s\S]*?interval:\s*)(\S+)", r"\g<1>" + interval, text, count=1)
        text = re.sub(r"(scheduling:\s*\n\s*interval:\s*)" + re.escape(old) + r"\b", r"\g<1>" + interval, text)
    if lookback_days is not None:
        text = re.sub(r"lookback_days:\s*\d+", f"lookback_days: {lookback_days}", text)
    text = re.sub(r"(using: sinks\.csv_append\s*\n\s*params:\s*\n\s*path:\s*)(\S+)", r"\g<1>" + sink_path, text)
    with open(dst, "w") as f:
        f.write(text)


def read_predictions(path):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            out[(r["ts"], r["symbol"])] = float(r["prediction"])
    return out


def compare(engine_csv, other_csv):
    e = read_predictions(engine_csv)
    o = read_predictions(other_csv)
    common = [k for k in o if k in e]
    missing = [k for k in o if k not in e]
    diff = max((abs(e[k] - o[k]) for k in common), default=float("nan"))
    return len(common), len(missing), diff


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipeline", default=os.path.join(REPO, "examples/08_signal_generation/minimal_offline.yaml"))
    ap.add_argument("--alpha-forge", default=os.path.join(BUILD, "src/app/alpha_forge"))
    ap.add_argument("--engine-bench", default=os.path.join(BUILD, "bench/e2e/engine_bench"))
    ap.add_argument("--workdir", default="/tmp/af_perf_e2e")
    ap.add_argument("--symbols", default="BTCUSDT,ETHUSDT", help="list, or a number N for SYM000USDT..")
    ap.add_argument("--interval", default="1h")
    ap.add_argument("--from", dest="date_from", default="2025-01-01")
    ap.add_argument("--to", dest="date_to", default="2025-04-01")
    ap.add_argument("--lookback-days", type=int, default=None, help="override warmup.lookback_days")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bench-events", type=int, default=1_000_000, help="engine_bench events")
    ap.add_argument("--bench-warmup-rows", type=int, default=720)
    ap.add_argument("--repeat", type=int, default=3, help="runs of replay and engine_bench; the best is reported")
    ap.add_argument("--baseline", action="store_true", help="also run the Python baselines")
    ap.add_argument("--baseline-events", type=int, default=0, help="cap the pandas loop's events (0 = all)")
    ap.add_argument("--frame-rows", type=int, default=720)
    ap.add_argument("--json", default=None, help="write JSON to FILE ('-' = stdout)")
    a = ap.parse_args()

    if re.fullmatch(r"\d+", a.symbols):
        symbols = [f"S{i:03d}USDT" for i in range(int(a.symbols))]
    else:
        symbols = a.symbols.split(",")
    os.makedirs(a.workdir, exist_ok=True)
    tag = f"{len(symbols)}_{a.interval}_{a.date_from}_{a.date_to}_{a.seed}"
    mirror = os.path.join(a.workdir, "mirror_" + tag)
    if not os.path.isdir(mirror):
        subprocess.run([a.alpha_forge, "synth-data", "--out", mirror, "--symbols", ",".join(symbols),
                        "--interval", a.interval, "--from", a.date_from, "--to", a.date_to,
                        "--seed", str(a.seed)], check=True, capture_output=True)
    pipeline = os.path.join(a.workdir, "pipeline.yaml")
    engine_csv = os.path.join(a.workdir, "engine_predictions.csv")
    write_pipeline(a.pipeline, pipeline, symbols, a.interval, engine_csv, a.lookback_days)

    res = {"pipeline": os.path.relpath(a.pipeline, REPO), "symbols": len(symbols), "interval": a.interval,
           "data": f"{a.date_from}..{a.date_to}", "load1": os.getloadavg()[0], "cpus": os.cpu_count()}

    # 1. alpha_forge replay (best of --repeat by CPU time).
    best = None
    for _ in range(a.repeat):
        if os.path.exists(engine_csv):
            os.remove(engine_csv)
        out, cpu, wall, rss = run_timed([a.alpha_forge, "replay", pipeline, "--data", mirror], cwd=REPO,
                                        allow_failure=True)
        if best is None or cpu < best[1]:
            best = (out, cpu, wall, rss)
    out, cpu, wall, rss = best
    s = kv_line(out, "replay")
    events = int(s["history_bars"]) + int(s["streamed_bars"])
    res.update({"replay_events": events, "replay_history_bars": int(s["history_bars"]),
                "replay_streamed_bars": int(s["streamed_bars"]), "replay_predictions": int(s["predictions"]),
                "replay_cpu_seconds": round(cpu, 3), "replay_wall_seconds": round(wall, 3),
                "replay_events_per_sec": round(events / cpu) if cpu > 0 else None,
                "replay_peak_rss_kb": rss})
    ex = kv_line(out, "exit")
    res["replay_exit_status"] = int(ex.get("exit_status", 0))
    res["replay_sink_records_lost"] = int(ex.get("sink_records_lost", 0))

    # 2. engine_bench: decoded bars, latency percentiles.
    if os.path.exists(a.engine_bench):
        bestb = None
        for _ in range(a.repeat):
            out_b, cpu_b, _, rss_b = run_timed([a.engine_bench, "--pipeline", pipeline, "--events",
                                                str(a.bench_events), "--warmup-rows", str(a.bench_warmup_rows)],
                                               cwd=REPO)
            b = kv_line(out_b, "bench=engine")
            if bestb is None or float(b["cpu_seconds"]) < float(bestb["cpu_seconds"]):
                bestb = b
        for k in ("events", "events_per_sec", "ns_per_event", "latency_p50_ns", "latency_p99_ns",
                  "latency_p999_ns", "latency_max_ns", "rss_kb_after_warmup", "peak_rss_kb"):
            res["bench_" + k] = float(bestb[k])

    # 3. baselines on the same mirror, predictions checked against the engine's.
    if a.baseline:
        if not os.path.exists(engine_csv):
            subprocess.run([a.alpha_forge, "replay", pipeline, "--data", mirror], cwd=REPO, check=True,
                           capture_output=True)
        lookback = a.lookback_days if a.lookback_days is not None else int(
            re.search(r"lookback_days:\s*(\d+)", open(pipeline).read()).group(1))
        common = ["--data", mirror, "--symbols", ",".join(symbols), "--interval", a.interval,
                  "--lookback-days", str(lookback)]
        for name, script, extra in (
                ("seed", "seed_loop.py", ["--frame-rows", str(a.frame_rows), "--max-events", str(a.baseline_events)]),
                ("incremental", "incremental_loop.py", [])):
            out_csv = os.path.join(a.workdir, f"{name}_predictions.csv")
            p = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "bench/baseline", script)] + common + extra +
                               ["--out", out_csv], capture_output=True, text=True)
            if p.returncode != 0:
                sys.stderr.write(p.stderr)
                raise SystemExit(f"{script} failed")
            b = kv_line(p.stdout, "baseline=")
            n, missing, diff = compare(engine_csv, out_csv)
            res.update({f"{name}_events": int(b["events"]), f"{name}_cpu_seconds": float(b["cpu_seconds"]),
                        f"{name}_events_per_sec": float(b["events_per_sec"]),
                        f"{name}_us_per_event": float(b["us_per_event"]),
                        f"{name}_compared": n, f"{name}_missing_in_engine": missing,
                        f"{name}_max_abs_diff": diff})
            if "bench_events_per_sec" in res:
                res[f"ratio_engine_vs_{name}"] = round(res["bench_events_per_sec"] / float(b["events_per_sec"]), 1)
            res[f"ratio_replay_vs_{name}"] = round(res["replay_events_per_sec"] / float(b["events_per_sec"]), 1)

    res["load1_end"] = os.getloadavg()[0]
    print(" ".join(f"{k}={v}" for k, v in res.items()))
    if a.json == "-":
        print(json.dumps(res, indent=2))
    elif a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
