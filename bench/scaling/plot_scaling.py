#!/usr/bin/python3
"""Draws bench/scaling/results.json (written by run_scaling.py) into
docs/perf_scaling_symbols.png, docs/perf_scaling_frame.png and
docs/perf_scaling_features.png: CPU ns per event, log-log, every point
labelled with its value; and, when results.json has a `threads` section,
docs/perf_scaling_threads.png: whole-process replay events/s (wall and CPU)
against `replay --threads N`. Needs Debian's python3-matplotlib."""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERIES = (("engine", "alpha_forge engine (C++, incremental)", "tab:blue"),
          ("incremental", "pure Python, incremental", "tab:green"),
          ("seed", "seed loop (pandas, recompute frame)", "tab:red"))


def fmt(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.3g} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} us"
    return f"{ns:.3g} ns"


def plot(rows, xkey, xlabel, title, path):
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=90)
    for key, label, color in SERIES:
        pts = [(r[xkey], r[key]["ns_per_event"]) for r in rows if key in r]
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, "o-", color=color, label=label)
        for x, y in pts:
            ax.annotate(fmt(y), (x, y), textcoords="offset points", xytext=(4, 5), fontsize=7, color=color)
    ax.margins(x=0.15)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("CPU time per bar event (ns, log)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def plot_threads(rows, path):
    """Events/s of the whole replay process against its --threads (linear axes):
    over wall time (what the threads buy) and over CPU time (what they cost)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=90)
    for key, label, color in (("events_per_sec_wall", "events/s over wall time", "tab:blue"),
                              ("events_per_sec_cpu", "events/s over CPU time (user+sys)", "tab:orange")):
        pts = [(r["threads"], r["replay"][key]) for r in rows if "replay" in r]
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, "o-", color=color, label=label)
        for x, y in pts:
            ax.annotate(f"{y / 1e6:.2f} M", (x, y), textcoords="offset points", xytext=(4, 5), fontsize=7,
                        color=color)
    ax.set_xticks(sorted({r["threads"] for r in rows}))
    ax.set_ylim(bottom=0)
    ax.margins(x=0.2)
    ax.set_xlabel("replay --threads")
    ax.set_ylabel("bar events per second")
    ax.set_title("Whole-process replay vs threads (20 symbols x 1 month of 1m, warm cache, CSV sink)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def markdown(res):
    """The results as Markdown tables (for docs/performance.md)."""
    out = []

    def cell(r, key):
        return f"{r[key]['ns_per_event']:,.0f}" if key in r else "-"

    for section, xkey, xname in (("symbols", "symbols", "symbols"), ("frame", "frame_rows", "frame rows")):
        rows = res.get(section, [])
        if not rows:
            continue
        out.append(f"| {xname} | engine ns/event | engine p99 ns | engine peak RSS kB | "
                   "Python incremental ns/event | seed loop ns/event | seed / engine |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            e = r.get("engine", {})
            ratio = (f"{r['seed']['ns_per_event'] / e['ns_per_event']:,.0f}x" if "seed" in r and e else "-")
            out.append(f"| {r[xkey]:,} | {cell(r, 'engine')} | {e.get('p99_ns', '-')} | "
                       f"{e.get('peak_rss_kb', '-')} | {cell(r, 'incremental')} | {cell(r, 'seed')} | {ratio} |")
        out.append("")
    rows = res.get("features", [])
    if rows:
        out.append("| repeats | feature columns | engine ns per 15m source event | p50 ns | p99 ns | peak RSS kB |")
        out.append("|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            e = r["engine"]
            out.append(f"| {r['repeat']} | {r['features']} | {e['ns_per_event']:,.0f} | {e['p50_ns']:.0f} | "
                       f"{e['p99_ns']:.0f} | {e['peak_rss_kb']} |")
        out.append("")
    return "\n".join(out)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--markdown":
        print(markdown(json.load(open(os.path.join(REPO, "bench/scaling/results.json")))))
        return
    res = json.load(open(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "bench/scaling/results.json")))
    docs = os.path.join(REPO, "docs")
    if "symbols" in res:
        plot(res["symbols"], "symbols", "symbols in the universe",
             "Cost per event vs symbols (momentum+RSI+linear, 720-row frame)",
             os.path.join(docs, "perf_scaling_symbols.png"))
    if "frame" in res:
        plot(res["frame"], "frame_rows", "frame length / warmup rows per symbol",
             "Cost per event vs frame length (2 symbols)", os.path.join(docs, "perf_scaling_frame.png"))
    if "features" in res:
        plot(res["features"], "features", "feature columns (bilstm example's 19 repeated)",
             "Engine cost per 15m source event vs features (resample 2h, linear model)",
             os.path.join(docs, "perf_scaling_features.png"))
    if res.get("threads"):
        plot_threads(res["threads"], os.path.join(docs, "perf_scaling_threads.png"))


if __name__ == "__main__":
    main()
