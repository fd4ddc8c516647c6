#!/usr/bin/python3
"""One command for the issue-15 table: on one synthetic mirror (default 20
symbols x one month of 1m bars) and the minimal pipeline with the CSV sink, in
one session, it measures

  * the Python original's per-bar pandas loop (bench/baseline/seed_loop.py), if
    /usr/bin/python3 can import pandas (otherwise the row says why it is skipped);
  * `alpha_forge replay --no-cache` (every archive decoded),
  * replay with a cold decoded-bar cache (every `<zip>.bars` deleted first, so the
    run decodes and writes them), and with a warm one (maps them);
  * `replay --threads 1` and `--threads 2` (warm cache), when `replay --help` lists
    `--threads` ("n/a (no --threads)" otherwise);
  * the engine alone (replay with no sink if the CLI has such a flag, else
    bench/e2e/engine_bench: decoded bars, a counting callback, no sink);

and prints one table: CPU seconds (user+sys, the primary number on a shared
machine), wall seconds, events/s over CPU and over wall time, peak RSS, whether
the run's predictions CSV equals the warm run's (sha256 of every column but
`emitted_at`, the wall-clock time of the write), and each row's
events/s (CPU) over the pandas loop's; then the issue's targets, met or not.
Replay rows: the least CPU time of --repeat runs, and apart the least wall time.

Standard library only. Needs a built `alpha_forge` and `engine_bench`
(`cmake --build --preset ci --target alpha_forge engine_bench`).
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import run_e2e  # noqa: E402

MINIMAL = os.path.join(REPO, "examples/08_signal_generation/minimal_offline.yaml")
SYSTEM_PYTHON = "/usr/bin/python3"

# The targets (issue 15): events/s.
TARGET_WARM = 4_000_000       # whole-process replay, warm cache, on 2 cores (wall)
TARGET_COLD = 1_500_000       # cold cache
TARGET_ENGINE = 10_000_000    # engine only, no sinks
TARGET_THREADS = 1.7          # replay --threads 2 over --threads 1, wall
TARGET_RATIO = 30_000         # warm replay over the pandas loop


def content_lines(path):
    """The CSV's lines without its last column when that is `emitted_at` (the
    wall-clock time of each write, different in every run)."""
    with open(path, "rb") as f:
        lines = f.read().splitlines()
    if lines and lines[0].endswith(b",emitted_at"):
        lines = [ln[:ln.rfind(b",")] for ln in lines]
    return lines


def sha256_file(path):
    return hashlib.sha256(b"\n".join(content_lines(path))).hexdigest()


def sorted_lines_digest(path):
    return hashlib.sha256(b"\n".join(sorted(content_lines(path)))).hexdigest()


def delete_caches(mirror):
    n = 0
    for root, _, files in os.walk(mirror):
        for name in files:
            if name.endswith(".bars"):
                os.remove(os.path.join(root, name))
                n += 1
    return n


def replay_help(alpha_forge):
    p = subprocess.run([alpha_forge, "replay", "--help"], capture_output=True, text=True)
    return p.stdout + p.stderr


def run_replay(alpha_forge, pipeline, mirror, out_csv, extra, repeat, before=None):
    """Best of `repeat` runs by CPU time: a dict of the row's numbers."""
    best = None
    for _ in range(repeat):
        if before:
            before()
        cmd = [alpha_forge, "replay", pipeline, "--data", mirror, "--fresh"] + extra
        out, cpu, wall, rss = run_e2e.run_timed(cmd, cwd=REPO)
        s = run_e2e.kv_line(out, "replay")
        events = int(s["history_bars"]) + int(s["streamed_bars"])
        row = {"cpu_s": cpu, "wall_s": wall, "rss_kb": rss, "events": events, "predictions": int(s["predictions"]),
               "sha256": sha256_file(out_csv), "sorted_sha256": sorted_lines_digest(out_csv),
               "command": " ".join(cmd)}
        if best is None or cpu < best["cpu_s"]:
            row["wall_s"] = min(wall, best["wall_s"]) if best else wall
            best = row
        else:
            best["wall_s"] = min(best["wall_s"], wall)
    return best


def run_engine_bench(engine_bench, pipeline, events, repeat):
    best = None
    for _ in range(repeat):
        cmd = [engine_bench, "--pipeline", pipeline, "--events", str(events), "--warmup-rows", "720",
               "--no-latency"]
        out, cpu, wall, rss = run_e2e.run_timed(cmd, cwd=REPO)
        b = run_e2e.kv_line(out, "bench=engine")
        row = {"cpu_s": float(b["cpu_seconds"]), "wall_s": float(b["wall_seconds"]), "rss_kb": rss,
               "events": int(b["events"]), "predictions": int(b["predictions"]), "command": " ".join(cmd),
               "note": "engine_bench: timed loop only (thread CPU), no sink"}
        if best is None or row["cpu_s"] < best["cpu_s"]:
            best = row
    return best


def pandas_skip_reason():
    p = subprocess.run([SYSTEM_PYTHON, "-c", "import pandas, numpy"], capture_output=True, text=True)
    if p.returncode == 0:
        return None
    last = (p.stderr.strip().splitlines() or ["import failed"])[-1]
    return f"{SYSTEM_PYTHON} cannot import pandas ({last}); install python3-pandas"


def run_pandas(mirror, symbols, interval, lookback_days, max_events, workdir):
    out_csv = os.path.join(workdir, "seed_predictions.csv")
    cmd = [SYSTEM_PYTHON, os.path.join(REPO, "bench/baseline/seed_loop.py"), "--data", mirror, "--symbols",
           ",".join(symbols), "--interval", interval, "--lookback-days", str(lookback_days), "--max-events",
           str(max_events), "--out", out_csv]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("seed_loop.py failed")
    b = run_e2e.kv_line(p.stdout, "baseline=")
    return {"cpu_s": float(b["cpu_seconds"]), "wall_s": float(b["wall_seconds"]), "rss_kb": None,
            "events": int(b["events"]), "predictions": int(b["predictions"]), "command": " ".join(cmd),
            "note": "loop only (data loading excluded), first %d streamed bars" % int(b["events"])}


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.0f} k"
    return f"{v:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build", "ci"), help="build dir (default build/ci)")
    ap.add_argument("--alpha-forge", default=None, help="default BUILD/src/app/alpha_forge")
    ap.add_argument("--engine-bench", default=None, help="default BUILD/bench/e2e/engine_bench")
    ap.add_argument("--workdir", default="/tmp/af_e2e_table")
    ap.add_argument("--symbols", type=int, default=20, help="N symbols S000USDT..")
    ap.add_argument("--interval", default="1m")
    ap.add_argument("--from", dest="date_from", default="2025-01-01")
    ap.add_argument("--to", dest="date_to", default="2025-02-01")
    ap.add_argument("--lookback-days", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3, help="runs per replay row (best CPU time kept)")
    ap.add_argument("--engine-events", type=int, default=2_000_000)
    ap.add_argument("--pandas-events", type=int, default=60,
                    help="streamed bars the pandas loop runs (each costs ~0.1-0.2 s at 20 symbols)")
    ap.add_argument("--skip", default="", help="comma list of rows to skip: pandas,nocache,cold,warm,threads,engine")
    ap.add_argument("--json", default=None, help="also write the numbers as JSON to FILE")
    a = ap.parse_args()
    alpha_forge = a.alpha_forge or os.path.join(a.build, "src/app/alpha_forge")
    engine_bench = a.engine_bench or os.path.join(a.build, "bench/e2e/engine_bench")
    skip = set(filter(None, a.skip.split(",")))
    if not os.path.exists(alpha_forge):
        raise SystemExit(f"no {alpha_forge}: build it (cmake --build --preset ci --target alpha_forge engine_bench)")

    symbols = [f"S{i:03d}USDT" for i in range(a.symbols)]
    os.makedirs(a.workdir, exist_ok=True)
    mirror = os.path.join(a.workdir, f"mirror_{a.symbols}_{a.interval}_{a.date_from}_{a.date_to}_{a.seed}")
    if not os.path.isdir(mirror):
        print(f"writing the synthetic mirror {mirror} ...", flush=True)
        subprocess.run([alpha_forge, "synth-data", "--out", mirror, "--symbols", ",".join(symbols), "--interval",
                        a.interval, "--from", a.date_from, "--to", a.date_to, "--seed", str(a.seed)], check=True,
                       capture_output=True)
    pipeline = os.path.join(a.workdir, "pipeline.yaml")
    out_csv = os.path.join(a.workdir, "predictions.csv")
    run_e2e.write_pipeline(MINIMAL, pipeline, symbols, a.interval, out_csv, a.lookback_days)

    help_text = replay_help(alpha_forge)
    has_threads = "--threads" in help_text
    no_sink_flag = next((f for f in ("--no-sinks", "--no-sink") if f in help_text), None)

    load_start = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []  # (name, numbers or None, why-not text)

    def add(name, fn, why_not=None):
        if why_not:
            rows.append((name, None, why_not))
            return
        print(f"running: {name} ...", flush=True)
        rows.append((name, fn(), None))

    pandas_why = "skipped (--skip)" if "pandas" in skip else pandas_skip_reason()
    add("pandas loop (bench/baseline/seed_loop.py)",
        lambda: run_pandas(mirror, symbols, a.interval, a.lookback_days, a.pandas_events, a.workdir),
        pandas_why and "skipped: " + pandas_why)
    add("replay --no-cache", lambda: run_replay(alpha_forge, pipeline, mirror, out_csv, ["--no-cache"], a.repeat),
        "skipped (--skip)" if "nocache" in skip else None)
    add("replay, cold cache", lambda: run_replay(alpha_forge, pipeline, mirror, out_csv, [], a.repeat,
                                                 before=lambda: delete_caches(mirror)),
        "skipped (--skip)" if "cold" in skip else None)
    if "warm" not in skip:  # the warm rows need the cache: one untimed run fills it
        subprocess.run([alpha_forge, "replay", pipeline, "--data", mirror, "--fresh"], cwd=REPO, check=True,
                       capture_output=True)
    add("replay, warm cache" + (" (default --threads)" if has_threads else ""),
        lambda: run_replay(alpha_forge, pipeline, mirror, out_csv, [], a.repeat),
        "skipped (--skip)" if "warm" in skip else None)
    for n in (1, 2):
        why = ("skipped (--skip)" if "threads" in skip else None) or (None if has_threads else "n/a (no --threads)")
        add(f"replay --threads {n}, warm cache",
            lambda n=n: run_replay(alpha_forge, pipeline, mirror, out_csv, ["--threads", str(n)], a.repeat), why)
    if "engine" in skip:
        add("engine only", None, "skipped (--skip)")
    elif no_sink_flag:
        add(f"engine only (replay {no_sink_flag}, warm cache)",
            lambda: run_replay(alpha_forge, pipeline, mirror, out_csv, [no_sink_flag], a.repeat))
    elif os.path.exists(engine_bench):
        add("engine only (engine_bench, no sink)",
            lambda: run_engine_bench(engine_bench, pipeline, a.engine_events, a.repeat))
    else:
        add("engine only", None, f"skipped: no {engine_bench} (build the engine_bench target)")
    load_end = os.getloadavg()

    def rate(r, key):
        return r["events"] / r[key] if r and r.get(key) else None

    pandas = rows[0][1]
    warm = next((r for n, r, _ in rows if n.startswith("replay, warm cache")), None)
    print()
    print(f"alpha_forge e2e table, {started}, {a.symbols} symbols x {a.interval} {a.date_from}..{a.date_to}, "
          f"minimal pipeline + CSV sink, lookback {a.lookback_days} d, {os.cpu_count()} CPUs, "
          f"load average {load_start[0]:.1f} at start, {load_end[0]:.1f} at the end")
    print(f"binary {alpha_forge}; replay rows: {a.repeat} runs each, the least CPU time (user+sys, whole process) "
          f"and, apart, the least wall time")
    print()
    head = ("row", "events", "CPU s", "wall s", "events/s CPU", "events/s wall", "peak RSS MB", "output",
            "x pandas (CPU)")
    table = [head]
    for name, r, why in rows:
        if r is None:
            table.append((name, why, "", "", "", "", "", "", ""))
            continue
        same = "-"
        if "sha256" in r and warm:
            same = ("= warm" if r["sha256"] == warm["sha256"] else
                    "same rows, other order" if r["sorted_sha256"] == warm["sorted_sha256"] else "DIFFERS")
        ratio = f"{rate(r, 'cpu_s') / rate(pandas, 'cpu_s'):,.0f}x" if pandas and r is not pandas else "-"
        table.append((name, f"{r['events']:,}", f"{r['cpu_s']:.3f}", f"{r['wall_s']:.3f}",
                      fmt_rate(rate(r, "cpu_s")), fmt_rate(rate(r, "wall_s")),
                      f"{r['rss_kb'] / 1024:.0f}" if r.get("rss_kb") else "-", same, ratio))
    widths = [max(len(str(t[i])) for t in table) for i in range(len(head))]
    for k, t in enumerate(table):
        if t[2] == "" and k > 0:
            print(f"{t[0]:<{widths[0]}}  {t[1]}")
            continue
        print("  ".join(str(v).ljust(widths[i]) if i == 0 else str(v).rjust(widths[i]) for i, v in enumerate(t)))
        if k == 0:
            print("  ".join("-" * w for w in widths))

    print()
    got = {n: r for n, r, _ in rows if r}

    def verdict(label, value, target, unit=" events/s"):
        if value is None:
            print(f"target {label}: not measured")
            return
        ok = "met" if value >= target else "NOT met"
        print(f"target {label}: {fmt_rate(value)}{unit} (target {fmt_rate(target)}{unit}): {ok}")

    # The issue states both replay targets for the whole process on 2 cores: wall
    # time is the one judged; the same run's CPU time (user+sys over all threads) is
    # printed beside it for reference, not judged.
    def reference(label, value):
        if value is not None:
            print(f"reference {label}: {fmt_rate(value)} events/s")

    walls = [r for n, r in got.items() if r is warm or n.startswith("replay --threads")]
    verdict("warm replay on 2 cores, wall (best warm row)", max((rate(r, "wall_s") for r in walls), default=None),
            TARGET_WARM)
    reference("warm replay, over CPU time", rate(warm, "cpu_s"))
    cold = got.get("replay, cold cache")
    verdict("cold replay on 2 cores, wall", rate(cold, "wall_s"), TARGET_COLD)
    reference("cold replay, over CPU time", rate(cold, "cpu_s"))
    one, two = got.get("replay --threads 1, warm cache"), got.get("replay --threads 2, warm cache")
    if one and two:
        speedup = one["wall_s"] / two["wall_s"]
        print(f"target --threads 2 vs --threads 1, wall: {speedup:.2f}x (target {TARGET_THREADS}x): "
              f"{'met' if speedup >= TARGET_THREADS else 'NOT met'}")
    else:
        print("target --threads 2 vs --threads 1: not measured")
    eng = next((r for n, r in got.items() if n.startswith("engine only")), None)
    verdict("engine only, CPU", rate(eng, "cpu_s"), TARGET_ENGINE)
    if pandas and warm:
        print(f"target warm replay / pandas loop (CPU): {rate(warm, 'cpu_s') / rate(pandas, 'cpu_s'):,.0f}x "
              f"(target {TARGET_RATIO:,}x): {'met' if rate(warm, 'cpu_s') / rate(pandas, 'cpu_s') >= TARGET_RATIO else 'NOT met'}")
    else:
        print("target warm replay / pandas loop: not measured (no pandas row)")

    if a.json:
        doc = {"started": started, "symbols": a.symbols, "interval": a.interval, "data": f"{a.date_from}..{a.date_to}",
               "cpus": os.cpu_count(), "load1_start": load_start[0], "load1_end": load_end[0],
               "rows": [{"name": n, "skipped": why, **(r or {})} for n, r, why in rows]}
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2)


if __name__ == "__main__":
    main()
