#include "runtime/replay_driver.hpp"

#include <chrono>
#include <limits>
#include <queue>
#include <vector>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

namespace af {

int64_t history_start_for(int64_t anchor, int64_t lookback_days, int64_t coarsest_interval_ms) {
  const int64_t start = anchor - lookback_days * kDayMs;
  if (coarsest_interval_ms <= 0) return start;
  const int64_t floor = bucket_start(start, coarsest_interval_ms);
  return floor == start ? start : floor + coarsest_interval_ms;
}

namespace {

// One (source, symbol) series of loaded bars and the read position in it.
struct Cursor {
  size_t source;
  SymbolId symbol;
  int64_t interval_ms;
  std::vector<Bar> bars;
  size_t next = 0;
  int64_t close_time() const { return bars[next].ts + interval_ms; }
};

}  // namespace

Result<ReplayReport> run_replay(Engine& engine, const PluginSet& plugins, const ReplayOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const dag::Plan& plan = engine.plan();
  auto log = logger("replay");

  std::vector<std::unique_ptr<DataSource>> sources;
  for (const auto& sp : plan.sources) {
    const auto* entry = plugins.data.find(sp.plugin);
    if (!entry) return make_error("no data source plugin '" + sp.plugin + "'");
    const auto& params = plan.steps[sp.step].params;
    auto src = entry->factory(DataSourceContext{params, sp.plugin, sp.interval_ms, options.data_dir});
    if (!src) return src.error();
    sources.push_back(std::move(src).value());
  }

  ReplayReport report;
  if (options.from) {
    report.anchor = *options.from;
  } else {
    int64_t earliest = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < plan.sources.size(); ++i) {
      for (const auto& sym : plan.sources[i].universe) {
        auto e = sources[i]->earliest(sym);
        if (!e) return e.error();
        if (e.value()) earliest = std::min(earliest, *e.value());
      }
    }
    if (earliest == std::numeric_limits<int64_t>::max())
      return make_error("no bars for the universe under " + options.data_dir);
    report.anchor = earliest + plan.lookback_days * kDayMs;
  }
  report.history_start = history_start_for(report.anchor, plan.lookback_days, plan.coarsest_interval_ms);
  report.end = options.to.value_or(std::numeric_limits<int64_t>::max());
  if (report.end <= report.anchor)
    return make_error("--to " + format_iso8601(report.end) + " is not after the start " +
                      format_iso8601(report.anchor));

  std::vector<Cursor> cursors;
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    for (const auto& sym : plan.sources[i].universe) {
      auto bars = sources[i]->history(sym, report.history_start, report.end);
      if (!bars) return bars.error();
      const auto id = engine.symbols().find(sym);
      if (!id) return make_error("symbol " + sym + " is not in the engine's universe");
      log->info("loaded source={} symbol={} bars={}", plan.sources[i].event, sym, bars->size());
      if (!bars->empty()) cursors.push_back(Cursor{i, *id, plan.sources[i].interval_ms, std::move(bars).value()});
    }
  }

  engine.set_anchor(report.anchor);
  // Bars in the order they close across every series: close time, then source,
  // then symbol, as a live service would see them.
  auto later = [&](size_t a, size_t b) {
    const Cursor& x = cursors[a];
    const Cursor& y = cursors[b];
    if (x.close_time() != y.close_time()) return x.close_time() > y.close_time();
    if (x.source != y.source) return x.source > y.source;
    return x.symbol > y.symbol;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < cursors.size(); ++i) heap.push(i);
  while (!heap.empty()) {
    const size_t i = heap.top();
    heap.pop();
    Cursor& c = cursors[i];
    const Bar& bar = c.bars[c.next];
    (bar.ts < report.anchor ? report.history_bars : report.streamed_bars)++;
    engine.on_source_bar(c.source, c.symbol, bar);
    if (++c.next < c.bars.size()) heap.push(i);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace af
