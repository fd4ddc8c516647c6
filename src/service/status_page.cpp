#include "service/status_page.hpp"

namespace af::service {

// Element ids and classes are the page's interface to its tests (tests/integration/
// signal/operations_test.cpp): #pipeline, #phase, #health, #updated (data-refreshes:
// successful loads), tr.sym[data-symbol] (class `stale` when late; data-changes: loads
// that brought this row a new bar), td.last-bar, td.value, svg.chart; #feeds, #sinks.
std::string_view status_page_html() {
  static constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alpha_forge status</title>
<style>
  :root { --fg: #1d2430; --muted: #5f6b7a; --line: #d9dee5; --bad: #b42318; --bad-bg: #fde8e6;
          --ok: #127a3a; --warn: #9a6700; --warn-bg: #fff5d6; }
  * { box-sizing: border-box; }
  body { margin: 0; padding: 16px 20px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: #f6f7f9; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 18px; margin-bottom: 12px; }
  h1 { font-size: 20px; margin: 0; }
  h2 { font-size: 15px; margin: 18px 0 6px; }
  .badge { padding: 2px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
  .badge.ok { background: #e3f4e8; color: var(--ok); }
  .badge.warn { background: var(--warn-bg); color: var(--warn); }
  .badge.bad { background: var(--bad-bg); color: var(--bad); }
  .muted { color: var(--muted); }
  table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); min-width: 60%; }
  th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
  th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.stale td { background: var(--bad-bg); color: var(--bad); font-weight: 600; }
  tr.spooling td { background: var(--warn-bg); }
  svg.chart { display: block; }
  svg.chart polyline { fill: none; stroke: #2563eb; stroke-width: 1.5; }
  #error { color: var(--bad); font-weight: 600; }
</style>
</head>
<body>
<header>
  <h1>alpha_forge <span id="pipeline">&hellip;</span></h1>
  <span id="phase" class="badge warn">loading</span>
  <span id="health" class="muted"></span>
  <span class="muted">anchor <span id="anchor">-</span></span>
  <span class="muted">snapshot <span id="snapshot">-</span></span>
  <span class="muted" id="build"></span>
</header>
<div id="error"></div>
<h2>Symbols</h2>
<table id="symbols">
  <thead><tr><th>symbol</th><th>last bar</th><th>lag</th><th>last prediction</th><th>value</th>
  <th>live bars from REST</th><th>recent predictions</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Feeds</h2>
<table id="feeds">
  <thead><tr><th>source</th><th>last message</th><th>silent</th><th>stale after</th><th>reconnects</th>
  <th>gaps repaired</th><th>real gaps</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Sinks</h2>
<table id="sinks">
  <thead><tr><th>sink</th><th>sent</th><th>queued</th><th>spooled</th><th>in spool</th><th>failed</th>
  <th>state</th><th>last error</th></tr></thead>
  <tbody></tbody>
</table>
<p class="muted">updated <span id="updated" data-refreshes="0">never</span></p>
<script>
"use strict";
const every = Math.max(500, Number(new URLSearchParams(location.search).get("every")) || 2000);
const changes = {};   // symbol -> loads that brought a new bar
const lastBars = {};  // symbol -> the last bar shown
let refreshes = 0;

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function secs(s) {
  if (s === null || s === undefined) return "-";
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function value(v) { return v === null || v === undefined ? "-" : Number(v).toPrecision(6); }
function chart(points) {
  const w = 180, h = 34, ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.setAttribute("data-points", points.length);
  if (points.length > 1) {
    const vs = points.map(p => p[1]);
    const lo = Math.min(...vs), hi = Math.max(...vs), span = hi - lo || 1;
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.map((p, i) =>
      (i * (w - 2) / (points.length - 1) + 1).toFixed(1) + "," + (h - 2 - (p[1] - lo) / span * (h - 4)).toFixed(1)).join(" "));
    const title = document.createElementNS(ns, "title");
    title.textContent = points.length + " predictions, " + value(lo) + " .. " + value(hi);
    svg.appendChild(title);
    svg.appendChild(line);
  }
  return svg;
}
function render(s) {
  document.getElementById("pipeline").textContent = s.pipeline;
  const phase = document.getElementById("phase");
  phase.textContent = s.phase;
  phase.className = "badge " + (s.phase === "failed" || !s.healthy && s.phase === "streaming" ? "bad"
                                : s.phase === "streaming" ? "ok" : "warn");
  document.getElementById("health").textContent = s.healthy ? "healthy" : "unhealthy: " + s.health;
  document.getElementById("anchor").textContent = s.anchor || "-";
  document.getElementById("snapshot").textContent =
    !s.snapshot.enabled ? "off" : s.snapshot.age_seconds === null ? "none yet" : secs(s.snapshot.age_seconds) + " old";
  document.getElementById("build").textContent = "v" + s.version + " " + s.commit;

  const rows = document.querySelector("#symbols tbody");
  rows.replaceChildren();
  for (const y of s.symbols) {
    if (lastBars[y.symbol] !== undefined && lastBars[y.symbol] !== y.last_bar) changes[y.symbol] = (changes[y.symbol] || 0) + 1;
    lastBars[y.symbol] = y.last_bar;
    const tr = document.createElement("tr");
    tr.className = "sym" + (y.stale ? " stale" : "");
    tr.dataset.symbol = y.symbol;
    tr.dataset.changes = changes[y.symbol] || 0;
    cell(tr, y.symbol);
    cell(tr, y.last_bar || "-", "last-bar");
    cell(tr, secs(y.lag_seconds) + (y.stale ? " (stale)" : ""), "num lag");
    cell(tr, y.last_prediction ? y.last_prediction.ts : "-", "last-prediction");
    cell(tr, y.last_prediction ? value(y.last_prediction.value) : "-", "num value");
    cell(tr, y.live_bars_from_rest, "num");
    cell(tr, "").appendChild(chart(y.recent));
    rows.appendChild(tr);
  }
  const feeds = document.querySelector("#feeds tbody");
  feeds.replaceChildren();
  for (const f of s.feeds) {
    const tr = document.createElement("tr");
    tr.className = "feed" + (f.stale ? " stale" : "");
    tr.dataset.source = f.source;
    cell(tr, f.source);
    cell(tr, f.last_message || "-");
    cell(tr, secs(f.silent_seconds), "num");
    cell(tr, secs(f.stale_after_seconds), "num");
    cell(tr, f.reconnects, "num");
    cell(tr, f.gaps_repaired, "num");
    cell(tr, f.real_gaps, "num");
    feeds.appendChild(tr);
  }
  const sinks = document.querySelector("#sinks tbody");
  sinks.replaceChildren();
  for (const k of s.sinks) {
    const tr = document.createElement("tr");
    const bad = k.dead || k.spool_full || k.failed > 0;
    tr.className = "sink" + (bad ? " stale" : k.spooling ? " spooling" : "");
    tr.dataset.sink = k.name;
    cell(tr, k.name);
    cell(tr, k.sent, "num sent");
    cell(tr, k.queue_depth, "num");
    cell(tr, k.spooled, "num");
    cell(tr, k.spool_pending, "num");
    cell(tr, k.failed, "num");
    cell(tr, k.dead ? "stopped" : k.spool_full ? "spool full" : k.spooling ? "spooling" : "ok");
    cell(tr, k.last_error || "");
    sinks.appendChild(tr);
  }
}
async function refresh() {
  try {
    const r = await fetch("status", { cache: "no-store" });
    if (!r.ok) throw new Error("status: HTTP " + r.status);
    render(await r.json());
    refreshes += 1;
    const u = document.getElementById("updated");
    u.textContent = new Date().toISOString().replace(/\.\d+Z$/, "Z") + ", every " + every / 1000 + " s";
    u.dataset.refreshes = refreshes;
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "cannot load the status: " + e.message;
  }
  setTimeout(refresh, every);
}
refresh();
</script>
</body>
</html>
)html";
  return kPage;
}

}  // namespace af::service
