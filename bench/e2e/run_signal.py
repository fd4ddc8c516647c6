#!/usr/bin/env python3
"""The live service end to end: `alpha_forge signal` against `alpha_forge sim-exchange`.

Generates a synthetic mirror for N symbols, serves it with the simulated exchange
at a chosen speed, runs `signal` on a pipeline (default: the BiLSTM example, its
full feature set and model) with the metrics endpoint on, and reads everything
from /metrics: bar-close-to-emit latency (p50, p99 from the histogram), RSS after
warmup and after `--events` more events, events/s while streaming. Prints one
key=value line (and JSON with --json). Run by hand from the repository root:

    python3 bench/e2e/run_signal.py --symbols 4 --events 20000
    python3 bench/e2e/run_signal.py --symbols 200 --events 1000000 --speed 36000
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def metric(text, name):
    total, found = 0.0, False
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        key, _, value = line.rpartition(" ")
        if key == name or key.startswith(name + "{"):
            total += float(value)
            found = True
    return total if found else None


def histogram(text, name):
    """(bounds, cumulative counts) of a Prometheus histogram without labels."""
    buckets = []
    for m in re.finditer(r'^%s_bucket\{le="([^"]+)"\} (\S+)$' % re.escape(name), text, re.M):
        bound = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
        buckets.append((bound, float(m.group(2))))
    return buckets


def quantile(buckets, q):
    """histogram_quantile: linear inside the bucket holding rank q * count."""
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, cum in buckets:
        if cum >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * ((rank - below) / (cum - below) if cum > below else 0)
        lower, below = bound, cum
    return lower


def cpu_seconds(pid):
    """utime + stime of a process, from /proc."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delta_buckets(a, b):
    return [(bound, cb - ca) for (bound, ca), (_, cb) in zip(a, b)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/release/src/app/alpha_forge")
    ap.add_argument("--pipeline", default="examples/models/bilstm_example.yaml")
    ap.add_argument("--symbols", type=int, default=4)
    ap.add_argument("--interval", default="15m", help="the pipeline's stream interval (the mirror is made in it)")
    ap.add_argument("--speed", type=float, default=9000, help="simulated ms per wall ms")
    ap.add_argument("--events", type=int, default=20000, help="events to stream after warmup")
    ap.add_argument("--settle-events", type=int, help="live bars before the 'after warmup' sample (default: max(4 x symbols, events / 10))")
    ap.add_argument("--mirror-from", default="2024-01-01")
    ap.add_argument("--sim-start", default="2024-04-01T00:03:00Z")
    ap.add_argument("--mirror-to", default="2025-01-01")
    ap.add_argument("--threads", type=int, help="signal --threads (default: signal's own, one per core)")
    ap.add_argument("--json", help="also write JSON here ('-' = stdout)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--rt-priority", type=int,
                    help="after warmup, run every thread of signal and sim-exchange under SCHED_FIFO at this "
                         "priority (chrt; needs the privilege): on a shared machine, the latency of the "
                         "service itself rather than of the other tenants' load")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="af_signal_bench_")
    syms = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"][: args.symbols]
    syms += ["S%04dUSDT" % i for i in range(len(syms), args.symbols)]
    mirror = os.path.join(work, "mirror")
    subprocess.run([args.bin, "synth-data", "--out", mirror, "--symbols", ",".join(syms), "--interval", args.interval,
                    "--from", args.mirror_from, "--to", args.mirror_to], check=True, stdout=subprocess.DEVNULL)

    text = open(args.pipeline).read()
    text = re.sub(r"universe: \[[^\]]*\]", "universe: [%s]" % ", ".join(syms), text, count=1)
    text = re.sub(r"path: \S+", "path: %s" % os.path.join(work, "predictions.csv"), text, count=1)
    pipeline = os.path.join(work, "pipeline.yaml")
    open(pipeline, "w").write(text)

    port = free_port()
    base = "127.0.0.1:%d" % port
    sim = subprocess.Popen([args.bin, "--log-level", "error", "sim-exchange", "--data", mirror, "--port", str(port),
                            "--start", args.sim_start, "--speed", str(args.speed)])
    sig = None
    try:
        for _ in range(100):
            try:
                scrape("http://%s/fapi/v1/time" % base)
                break
            except Exception:
                time.sleep(0.1)
        out_path = os.path.join(work, "signal.out")
        t0 = time.time()
        sig = subprocess.Popen([args.bin, "--log-level", "warn", "signal", pipeline, "--metrics-port", "0",
                                "--state-dir", os.path.join(work, "state"),
                                "--binance-ws-url", "ws://%s/market/stream" % base,
                                "--binance-rest-url", "http://%s" % base, "--binance-vision-url", "http://%s" % base]
                               + (["--threads", str(args.threads)] if args.threads else []),
                               stdout=open(out_path, "w"), stderr=open(os.path.join(work, "signal.err"), "w"))
        url = None
        while url is None:
            m = re.search(r"metrics (http://\S+)/metrics", open(out_path).read())
            if m:
                url = m.group(1) + "/metrics"
            elif sig.poll() is not None:
                sys.exit("signal exited: " + open(os.path.join(work, "signal.err")).read())
            time.sleep(0.1)

        # Warm: warmup done, and the catch-up of what closed during warmup streamed
        # (--settle-events live bars), so that the sample is the steady state.
        settle = args.settle_events if args.settle_events is not None else max(4 * args.symbols, args.events // 10)
        while True:
            t = scrape(url)
            if metric(t, "af_warmup_done") == 1 and (metric(t, "af_live_bars_total") or 0) >= settle:
                break
            if sig.poll() is not None:
                sys.exit("signal exited: " + open(os.path.join(work, "signal.err")).read())
            time.sleep(0.5)
        warm_s = time.time() - t0
        if args.rt_priority:
            for pid in (sig.pid, sim.pid):
                subprocess.run(["chrt", "-a", "-f", "-p", str(args.rt_priority), str(pid)], check=True)
        warm = t
        events_warm = metric(warm, "af_events_total")
        rss_warm = metric(warm, "process_resident_memory_bytes")
        hist_warm = histogram(warm, "af_bar_close_to_emit_seconds")
        t_warm = time.time()
        cpu_warm = cpu_seconds(sig.pid)
        while True:
            t = scrape(url)
            if metric(t, "af_events_total") - events_warm >= args.events:
                break
            if sig.poll() is not None:
                sys.exit("signal exited: " + open(os.path.join(work, "signal.err")).read())
            time.sleep(1)
        t_end = time.time()
        cpu_end = cpu_seconds(sig.pid)
        end = t
        hist = delta_buckets(hist_warm, histogram(end, "af_bar_close_to_emit_seconds"))
        streamed = metric(end, "af_events_total") - events_warm
        rss_end = metric(end, "process_resident_memory_bytes")
        sig.send_signal(signal.SIGTERM)
        code = sig.wait(timeout=120)
        result = {
            "pipeline": os.path.basename(args.pipeline),
            "symbols": args.symbols,
            "interval": args.interval,
            "speed": args.speed,
            "warm_sample_at_events": int(events_warm),
            "warmup_wall_s": round(warm_s, 2),
            "streamed_events": int(streamed),
            "streamed_events_per_s": round(streamed / (t_end - t_warm), 1),
            "predictions": int(metric(end, "af_predictions_total")),
            "latency_samples": int(hist[-1][1]) if hist else 0,
            "close_to_emit_p50_ms": round(1000 * quantile(hist, 0.5), 3),
            "close_to_emit_p99_ms": round(1000 * quantile(hist, 0.99), 3),
            "close_to_emit_p999_ms": round(1000 * quantile(hist, 0.999), 3),
            "stream_cpu_s": round(cpu_end - cpu_warm, 2),
            "stream_cpu_us_per_event": round(1e6 * (cpu_end - cpu_warm) / max(1, streamed), 2),
            "rss_after_warmup_mib": round(rss_warm / 2**20, 2),
            "rss_after_stream_mib": round(rss_end / 2**20, 2),
            "rss_growth_pct": round(100 * (rss_end - rss_warm) / rss_warm, 2),
            "peak_rss_mib": round(metric(end, "af_process_peak_resident_memory_bytes") / 2**20, 2),
            "reconnects": int(metric(end, "af_feed_reconnects_total") or 0),
            "sink_failed": int(metric(end, "af_sink_failed_total") or 0),
            "exit_code": code,
            "rt_priority": args.rt_priority or 0,
            "threads": args.threads or 0,
        }
        print(" ".join("%s=%s" % (k, v) for k, v in result.items()))
        if args.json:
            blob = json.dumps(result, indent=2)
            if args.json == "-":
                print(blob)
            else:
                open(args.json, "w").write(blob + "\n")
    finally:
        if sig and sig.poll() is None:
            sig.kill()
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work, file=sys.stderr)


if __name__ == "__main__":
    main()
