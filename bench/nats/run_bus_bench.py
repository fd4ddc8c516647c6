#!/usr/bin/env python3
"""The bus benchmark of issue 14, in one command (run by hand from the repository root).

1. Throughput and CPU per bar: `bus_bench` (bench/nats/bus_bench.cpp: nats::Publisher
   into a JetStream stream with file storage, a nats::BusBarFeed in a child process
   reading it back and acking as a shard does) against
     - one nats-server (JetStream, file storage, replicas 1), started here;
     - the 3-node cluster of scripts/nats_cluster.sh (replicas 3);
   each with pipelined publishing (a window of outstanding acks, what ingest does)
   and with one ack awaited per bar (fewer bars: it is slow); then bursts of
   --hop-symbols bars every --burst-every-ms ms (a live close), reporting the hop
   from publish to the shard's poll() (p50/p99). The servers' CPU time over each
   run is read from /proc and reported per bar too.
2. Close-to-emit latency through the bus beside the direct path, in one run: one
   `alpha_forge sim-exchange` serves a synthetic mirror; `signal` reads it directly,
   while `ingest` publishes it to the single node and `signal --bus` reads it from
   there. Both signals' /metrics histograms `af_bar_close_to_emit_seconds` are read
   over the same streamed window. On the bus path the histogram starts at the
   moment ingest's feed found the bar final (the message's Af-Final-At-Us header),
   so it includes ingest, the publish, the server and the shard's fetch; on the
   direct path it starts when signal's own feed found the bar final.

Prints the machine's load, one key=value line per run and a summary; --json FILE
writes everything as JSON. Needs nats-server on PATH. Standard library only.

    python3 bench/nats/run_bus_bench.py --bin build/ci/src/app/alpha_forge --bench build/ci/bench/nats/bus_bench
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import run_signal as rs  # noqa: E402  (free_port, scrape, metric, histogram, quantile, cpu_seconds)


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


def wait_http(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            rs.scrape(url)
            return True
        except Exception:
            time.sleep(0.1)
    return False


class SingleNode:
    """One nats-server with JetStream (file storage under DIR) on loopback."""

    def __init__(self, work):
        self.dir = os.path.join(work, "nats1")
        os.makedirs(self.dir, exist_ok=True)
        self.port, self.mon = rs.free_port(), rs.free_port()
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(["nats-server", "-js", "-sd", os.path.join(self.dir, "store"), "-a", "127.0.0.1",
                                      "-p", str(self.port), "-m", str(self.mon)], stdout=self.log, stderr=self.log)
        if not wait_http("http://127.0.0.1:%d/healthz" % self.mon):
            sys.exit("nats-server did not start (log: %s)" % self.log.name)
        self.url = "nats://127.0.0.1:%d" % self.port
        self.pids = [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Cluster:
    """The 3-node cluster of scripts/nats_cluster.sh."""

    def __init__(self, work):
        self.dir = os.path.join(work, "cluster")
        out = subprocess.run(["bash", "scripts/nats_cluster.sh", "start", self.dir], check=True, capture_output=True,
                             text=True).stdout
        self.url = out.strip().splitlines()[-1]
        self.pids = [int(open(os.path.join(self.dir, "node%d" % i, "pid")).read()) for i in (1, 2, 3)]

    def stop(self):
        subprocess.run(["bash", "scripts/nats_cluster.sh", "stop", self.dir], check=False)


def servers_cpu(pids):
    return sum(rs.cpu_seconds(p) for p in pids)


def run_throughput(args, servers, replicas, mode, bars, burst_symbols=0):
    """One bus_bench run; burst_symbols > 0: bursts of that many bars every --burst-every-ms (the hop latency)."""
    cmd = [args.bench, "--bus", servers.url, "--replicas", str(replicas), "--mode", mode, "--bars", str(bars),
           "--symbols", str(burst_symbols or args.symbols), "--window", str(args.window),
           "--fetch-batch", str(args.fetch_batch)]
    if burst_symbols:
        cmd += ["--burst-every-ms", str(args.burst_every_ms)]
    cpu0 = servers_cpu(servers.pids)
    load0 = loadavg()
    p = subprocess.run(cmd, capture_output=True, text=True)
    server_cpu = servers_cpu(servers.pids) - cpu0
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    result = {"load": " ".join(load0)}
    for tok in line.split():
        k, _, v = tok.partition("=")
        result[k] = v
    result["server_cpu_us_per_bar"] = "%.2f" % (1e6 * server_cpu / bars)
    result["exit"] = p.returncode
    print(("hop " if burst_symbols else "throughput ") + " ".join("%s=%s" % kv for kv in result.items()), flush=True)
    if p.returncode != 0:
        print(p.stderr.strip(), file=sys.stderr)
    return result


def start(cmd, out, err):
    return subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(err, "w"))


def metrics_url(proc, out_path, err_path, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(r"metrics (http://\S+)/metrics", open(out_path).read())
        if m:
            return m.group(1) + "/metrics"
        if proc.poll() is not None:
            sys.exit("%s exited: %s" % (out_path, open(err_path).read()))
        time.sleep(0.1)
    sys.exit("no metrics URL in %s" % out_path)


def run_latency(args, node, work):
    syms = ["S%04dUSDT" % i for i in range(args.lat_symbols)]
    mirror = os.path.join(work, "mirror")
    subprocess.run([args.bin, "synth-data", "--out", mirror, "--symbols", ",".join(syms), "--interval", "1m",
                    "--from", args.mirror_from, "--to", args.mirror_to], check=True, stdout=subprocess.DEVNULL)
    text = open(args.pipeline).read()
    text = re.sub(r"universe: \[[^\]]*\]", "universe: [%s]" % ", ".join(syms), text, count=1)
    pipelines = {}
    for name in ("direct", "bus", "ingest"):
        p = os.path.join(work, "pipeline_%s.yaml" % name)
        open(p, "w").write(re.sub(r"path: \S+", "path: %s" % os.path.join(work, name + ".csv"), text, count=1))
        pipelines[name] = p

    port = rs.free_port()
    base = "127.0.0.1:%d" % port
    endpoints = ["--binance-ws-url", "ws://%s/market/stream" % base, "--binance-rest-url", "http://%s" % base,
                 "--binance-vision-url", "http://%s" % base]
    procs = []
    try:
        sim = subprocess.Popen([args.bin, "--log-level", "error", "sim-exchange", "--data", mirror, "--port", str(port),
                                "--start", args.sim_start, "--speed", str(args.speed)])
        procs.append(sim)
        if not wait_http("http://%s/fapi/v1/time" % base):
            sys.exit("sim-exchange did not start")
        f = lambda n: (os.path.join(work, n + ".out"), os.path.join(work, n + ".err"))  # noqa: E731
        ingest = start([args.bin, "--log-level", "info", "ingest", pipelines["ingest"], "--bus", node.url,
                        "--state-dir", os.path.join(work, "ingest_state"), "--metrics-port", "0"] + endpoints,
                       *f("ingest"))
        procs.append(ingest)
        direct = start([args.bin, "--log-level", "warn", "signal", pipelines["direct"], "--metrics-port", "0",
                        "--state-dir", os.path.join(work, "direct_state")] + endpoints, *f("direct"))
        procs.append(direct)
        bus = start([args.bin, "--log-level", "warn", "signal", pipelines["bus"], "--bus", node.url,
                     "--metrics-port", "0", "--state-dir", os.path.join(work, "bus_state")], *f("bus"))
        procs.append(bus)
        urls = {"ingest": metrics_url(ingest, *f("ingest")), "direct": metrics_url(direct, *f("direct")),
                "bus": metrics_url(bus, *f("bus"))}
        shards = {"direct": direct, "bus": bus}
        settle = args.settle_events
        if settle is None:
            settle = max(4 * args.lat_symbols, args.lat_events // 10)
        deadline = time.time() + args.lat_timeout
        while True:
            ready = True
            for name, proc in shards.items():
                if proc.poll() is not None:
                    sys.exit("%s signal exited: %s" % (name, open(f(name)[1]).read()))
                t = rs.scrape(urls[name])
                if rs.metric(t, "af_warmup_done") != 1 or (rs.metric(t, "af_live_bars_total") or 0) < settle:
                    ready = False
            if ready:
                # The bus shard has also caught up with what ingest published while
                # it warmed up (else the window would measure that backlog).
                # Ingest has caught up with the exchange (its history published, and
                # the live bars that queued meanwhile), and the bus shard with ingest:
                # else the window would measure those backlogs.
                live = lambda n: rs.metric(rs.scrape(urls[n]), "af_live_bars_total") or 0  # noqa: E731
                ingested = rs.metric(rs.scrape(urls["ingest"]), 'af_ingest_bars_total{kind="live"}') or 0
                if ingested >= live("direct") - 2 * args.lat_symbols and live("bus") >= ingested - 2 * args.lat_symbols:
                    break
            if time.time() > deadline:
                sys.exit("the signals did not warm up within %d s" % args.lat_timeout)
            time.sleep(0.5)

        def sample():
            s = {"t": time.time(), "server_cpu": servers_cpu(node.pids), "ingest_cpu": rs.cpu_seconds(ingest.pid),
                 "load": loadavg()}
            ti = rs.scrape(urls["ingest"])
            s["ingest_live"] = rs.metric(ti, 'af_ingest_bars_total{kind="live"}') or 0
            for name, proc in shards.items():
                t = rs.scrape(urls[name])
                s[name] = {"events": rs.metric(t, "af_events_total"), "cpu": rs.cpu_seconds(proc.pid),
                           "hist": rs.histogram(t, "af_bar_close_to_emit_seconds"),
                           "predictions": rs.metric(t, "af_predictions_total")}
            return s

        a = sample()
        while True:
            b = sample()
            if all(b[n]["events"] - a[n]["events"] >= args.lat_events for n in shards):
                break
            if time.time() > deadline + args.lat_timeout:
                sys.exit("the signals did not stream %d events in time" % args.lat_events)
            time.sleep(1)
        result = {"symbols": args.lat_symbols, "speed": args.speed, "pipeline": os.path.basename(args.pipeline),
                  "window_s": round(b["t"] - a["t"], 1), "load_start": " ".join(a["load"]),
                  "load_end": " ".join(b["load"])}
        for name in shards:
            hist = rs.delta_buckets(a[name]["hist"], b[name]["hist"])
            streamed = b[name]["events"] - a[name]["events"]
            result[name] = {
                "streamed_events": int(streamed),
                "latency_samples": int(hist[-1][1]) if hist else 0,
                "close_to_emit_p50_ms": round(1000 * rs.quantile(hist, 0.5), 3),
                "close_to_emit_p99_ms": round(1000 * rs.quantile(hist, 0.99), 3),
                "close_to_emit_p999_ms": round(1000 * rs.quantile(hist, 0.999), 3),
                "cpu_us_per_event": round(1e6 * (b[name]["cpu"] - a[name]["cpu"]) / max(1, streamed), 2),
            }
        live = b["ingest_live"] - a["ingest_live"]
        result["ingest_live_bars"] = int(live)
        result["ingest_cpu_us_per_bar"] = round(1e6 * (b["ingest_cpu"] - a["ingest_cpu"]) / max(1, live), 2)
        result["server_cpu_us_per_bar"] = round(1e6 * (b["server_cpu"] - a["server_cpu"]) / max(1, live), 2)
        for q in ("p50", "p99"):
            key = "close_to_emit_%s_ms" % q
            result["bus_adds_%s_ms" % q] = round(result["bus"][key] - result["direct"][key], 3)
        flat = {k: v for k, v in result.items() if not isinstance(v, dict)}
        for name in shards:
            flat.update({"%s_%s" % (name, k): v for k, v in result[name].items()})
        print("latency " + " ".join("%s=%s" % (k, str(v).replace(" ", ",")) for k, v in flat.items()), flush=True)
        return result
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/ci/src/app/alpha_forge")
    ap.add_argument("--bench", default="build/ci/bench/nats/bus_bench")
    ap.add_argument("--bars", type=int, default=200000, help="bars per pipelined throughput run")
    ap.add_argument("--sync-bars", type=int, default=20000, help="bars per run awaiting each ack (0: skip)")
    ap.add_argument("--symbols", type=int, default=200)
    ap.add_argument("--window", type=int, default=1024, help="outstanding acks of pipelined publishing")
    ap.add_argument("--fetch-batch", type=int, default=256)
    ap.add_argument("--hop-bars", type=int, default=10000, help="bars of the bursty hop-latency run (0: skip)")
    ap.add_argument("--hop-symbols", type=int, default=50, help="bars per burst of the hop-latency run")
    ap.add_argument("--burst-every-ms", type=int, default=100)
    ap.add_argument("--no-cluster", action="store_true", help="skip replicas 3")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--pipeline", default="bench/e2e/pipelines/minimal_1m.yaml")
    ap.add_argument("--lat-symbols", type=int, default=50)
    ap.add_argument("--speed", type=float, default=600, help="simulated ms per wall ms of the latency run")
    ap.add_argument("--lat-events", type=int, default=20000, help="events each signal streams in the measured window")
    ap.add_argument("--settle-events", type=int)
    ap.add_argument("--lat-timeout", type=int, default=600)
    ap.add_argument("--mirror-from", default="2024-03-29")
    ap.add_argument("--mirror-to", default="2024-04-06")
    ap.add_argument("--sim-start", default="2024-04-01T00:00:30Z")
    ap.add_argument("--json", help="write every result here as JSON")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    for path in (args.bin, args.bench):
        if not os.access(path, os.X_OK):
            sys.exit("not found: %s (build it: cmake --build --preset ci --target alpha_forge bus_bench)" % path)

    work = tempfile.mkdtemp(prefix="af_bus_bench_")
    out = {"load_start": loadavg(), "nproc": os.cpu_count(), "throughput": []}
    print("machine nproc=%d loadavg=%s" % (os.cpu_count(), ",".join(loadavg())), flush=True)
    node = SingleNode(work)
    cluster = None
    try:
        if not args.no_throughput:
            out["throughput"].append(run_throughput(args, node, 1, "async", args.bars))
            if args.sync_bars:
                out["throughput"].append(run_throughput(args, node, 1, "sync", args.sync_bars))
            if args.hop_bars:
                out["throughput"].append(run_throughput(args, node, 1, "async", args.hop_bars, args.hop_symbols))
            if not args.no_cluster:
                cluster = Cluster(work)
                out["throughput"].append(run_throughput(args, cluster, 3, "async", args.bars))
                if args.sync_bars:
                    out["throughput"].append(run_throughput(args, cluster, 3, "sync", args.sync_bars))
                if args.hop_bars:
                    out["throughput"].append(run_throughput(args, cluster, 3, "async", args.hop_bars, args.hop_symbols))
                cluster.stop()
                cluster = None
        if not args.no_latency:
            out["latency"] = run_latency(args, node, work)
    finally:
        if cluster:
            cluster.stop()
        node.stop()
        out["load_end"] = loadavg()
        print("machine loadavg_end=%s" % ",".join(loadavg()), flush=True)
        if args.json:
            open(args.json, "w").write(json.dumps(out, indent=2) + "\n")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work, file=sys.stderr)


if __name__ == "__main__":
    main()
