#include "runtime/replay_driver.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "runtime/bar_chunk.hpp"
#include "runtime/close_order.hpp"

namespace af {

namespace {

// Past this, month arithmetic is pointless (and would overflow near INT64_MAX):
// a probe window that reaches it is stretched to the end of the range.
constexpr int64_t kFarFutureMs = 253'402'300'800'000;  // 10000-01-01

// The first ms of the calendar month `months` (>= 1) after the one holding `ts`
// (UTC), capped at kFarFutureMs. Chunks are calendar months so that each monthly
// Vision file is read exactly once. One calendar conversion whatever `months`
// (the probe past the data's end doubles it up to ~2^17).
int64_t month_start_after(int64_t ts, int64_t months) {
  if (ts >= kFarFutureMs) return kFarFutureMs;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(ts >= 0 ? ts / kDayMs : (ts - kDayMs + 1) / kDayMs, y, m, d);
  constexpr int64_t kMonthsToFarFuture = 12 * 12'000;  // more than any ts here can be from 10000-01-01
  const int64_t index = y * 12 + (m - 1) + std::min(months, kMonthsToFarFuture);
  int64_t year = index / 12, month0 = index % 12;
  if (month0 < 0) {  // floor division for dates before year 0
    month0 += 12;
    --year;
  }
  const int64_t start = days_from_civil(year, static_cast<unsigned>(month0) + 1, 1) * kDayMs;
  return std::min(start, kFarFutureMs);
}

// Rows a cursor reads from a mapped chunk at a time: 64 bars (5.6 KB) per series
// stay in the core's cache at a few hundred series.
constexpr size_t kBlockRows = 64;

// One (source, symbol) series, loaded one chunk (a calendar month) at a time so
// that replay memory does not grow with the range (issue 8). Chunks are half-open
// [loaded_to, chunk end): every bar of [from, end) is in exactly one chunk. A
// chunk is whatever the source hands out (DataSource::history_chunk): the vision
// source's is a view of the mapped decoded-bar cache, read a block of rows at a time.
struct Cursor {
  size_t source;
  SymbolId symbol;
  int64_t interval_ms;
  std::string name;       // the symbol, as the data source knows it
  int64_t loaded_to = 0;  // bars with ts < loaded_to have been loaded
  int64_t end = 0;        // exclusive end of the series' range
  BarChunk bars;          // the current chunk
  size_t next = 0;        // index in `bars` of `*bar`
  const Bar* bar = nullptr;  // the series' next bar: in `bars` or in `block`
  size_t block_left = 0;  // rows from `bar` on that are read already
  CloseKey key;           // its place in the close order
  std::unique_ptr<Bar[]> block;  // rows of a mapped chunk, kBlockRows at a time
  uint64_t total = 0;     // bars loaded so far
  int64_t last_ts = std::numeric_limits<int64_t>::min();  // the previous bar fed, for gap detection

  Cursor(size_t source_, SymbolId symbol_, int64_t interval, std::string name_, int64_t from, int64_t end_)
      : source(source_), symbol(symbol_), interval_ms(interval), name(std::move(name_)), loaded_to(from), end(end_) {}

  int64_t close_time() const { return key.close; }

  // Points `bar` at bars[next] (reading the next block when the last one is used up).
  void fetch() {
    if (block_left == 0) {
      if (!block) block = std::make_unique<Bar[]>(kBlockRows);
      bar = bars.rows(next, block.get(), kBlockRows, block_left);
    }
    key = CloseKey{bar->ts + interval_ms, source, symbol};
  }
  // Moves to the chunk's next bar; false when the chunk is done.
  bool advance() {
    if (++next >= bars.size()) return false;
    ++bar;
    --block_left;
    fetch();
    return true;
  }

  // Replaces the exhausted chunk with the next non-empty one. A month without
  // bars (a gap in the data) widens the next window (2, 4, 8... months) so that
  // an open-ended range (`end` = INT64_MAX) ends after a few probes once the data
  // does. Returns false at the end of the range.
  Result<bool> load_next(DataSource& data) {
    bars = BarChunk();
    next = 0;
    block_left = 0;
    int64_t months = 1;
    while (bars.empty() && loaded_to < end) {
      int64_t to = std::min(end, month_start_after(loaded_to, months));
      if (to >= kFarFutureMs) to = end;
      auto chunk = data.history_chunk(name, loaded_to, to);
      if (!chunk) return chunk.error();
      bars = std::move(chunk).value();
      loaded_to = to;
      months *= 2;
    }
    total += bars.size();
    if (bars.empty()) return false;
    fetch();
    return true;
  }
};

// The series in close order: (close time, cursor index) entries kept sorted in
// a ring, the cursors being sorted by (data step, symbol) so that the index is
// CloseKey's tie-break. Series of one interval move in lockstep: the series just
// fed closes its next bar after every other one's, so its entry goes back to
// the end of the ring: two comparisons per bar where a heap sifted through
// log2(series) levels. Otherwise (other intervals, gaps) the place is found by
// binary search and the shorter side of the ring moves by one entry.
class CloseOrderRing {
 public:
  // `cursors` sorted by (source, symbol), each with a bar.
  explicit CloseOrderRing(const std::vector<Cursor>& cursors) {
    size_t capacity = kPerLine;
    while (capacity < cursors.size() + 1) capacity *= 2;
    lines_.resize(capacity / kPerLine);
    mask_ = capacity - 1;
    for (size_t i = 0; i < cursors.size(); ++i) insert(Entry{cursors[i].key.close, i});
  }
  bool empty() const { return size_ == 0; }
  size_t top() const { return at(0).cursor; }
  // The first series moved to its next bar, closing at `close`.
  void replace_top(int64_t close) {
    const Entry e{close, top()};
    pop();
    insert(e);
  }
  void pop() {
    head_ = (head_ + 1) & mask_;
    --size_;
  }

 private:
  struct Entry {
    int64_t close;
    size_t cursor;
  };
  // The ring is written for every bar. Under replay --threads each thread has
  // its own, and a ring sharing a cache line with another thread's hot data made
  // the line bounce between the cores (this function went from 1% to 6% of each
  // thread's time): its storage is whole, aligned cache lines.
  static constexpr size_t kPerLine = 64 / sizeof(Entry);
  struct alignas(64) Line {
    Entry entries[kPerLine];
  };
  static bool before(const Entry& a, const Entry& b) {
    return a.close < b.close || (a.close == b.close && a.cursor < b.cursor);
  }
  Entry& at(size_t j) {
    const size_t k = (head_ + j) & mask_;
    return lines_[k / kPerLine].entries[k % kPerLine];
  }
  const Entry& at(size_t j) const { return const_cast<CloseOrderRing*>(this)->at(j); }

  void insert(const Entry& e) {
    if (size_ == 0 || before(at(size_ - 1), e)) {  // the lockstep case
      at(size_++) = e;
      return;
    }
    size_t lo = 0, hi = size_ - 1;  // the first entry after `e` is in [lo, hi]
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (before(e, at(mid))) hi = mid;
      else lo = mid + 1;
    }
    if (lo < size_ - lo) {  // open the slot by moving the front part one step back
      head_ = (head_ + mask_) & mask_;
      for (size_t j = 0; j < lo; ++j) at(j) = at(j + 1);
    } else {                // or the back part one step on
      for (size_t j = size_; j > lo; --j) at(j) = at(j - 1);
    }
    at(lo) = e;
    ++size_;
  }

  std::vector<Line> lines_;
  size_t mask_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace

namespace {

// "92 days", "5 hours", "1 day 3 hours": a gap's span for people.
std::string format_span(int64_t ms) {
  const int64_t days = ms / kDayMs;
  const int64_t hours = (ms % kDayMs) / 3'600'000;
  const int64_t minutes = (ms % 3'600'000) / 60'000;
  std::string out;
  auto add = [&out](int64_t n, const char* name) {
    if (!out.empty()) out += ' ';
    out += std::to_string(n);
    out += ' ';
    out += name;
    if (n != 1) out += 's';
  };
  if (days) add(days, "day");
  if (hours) add(hours, "hour");
  if (minutes || out.empty()) add(minutes, "minute");
  return out;
}

}  // namespace

std::string describe_gap(const ReplayGap& gap) {
  return gap.symbol + " misses " + std::to_string(gap.missing_bars()) + " bars " + format_iso8601(gap.from) + " .. " +
         format_iso8601(gap.to) + " (" + format_span(gap.to + gap.interval_ms - gap.from) + ")";
}

namespace {

// Each of the first gaps gets its own warning; the rest are summed up at the end.
constexpr uint64_t kGapWarnings = 10;

void note_gap(GapSummary& summary, const ReplayGap& gap, GapPolicy policy, const std::shared_ptr<spdlog::logger>& log) {
  ++summary.count;
  summary.missing_bars += static_cast<uint64_t>(gap.missing_bars());
  if (!summary.largest || gap.missing_bars() > summary.largest->missing_bars()) summary.largest = gap;
  if (summary.count <= kGapWarnings) {
    if (policy == GapPolicy::kReset)
      log->warn("gap in the data: {}; {} starts afresh after it (--gap-policy reset)", describe_gap(gap), gap.symbol);
    else
      log->warn("gap in the data: {}; features carry their state across it (--gap-policy)", describe_gap(gap));
  }
}

}  // namespace

namespace {

Result<std::vector<std::unique_ptr<DataSource>>> make_sources(const dag::Plan& plan, const PluginSet& plugins,
                                                              const ReplayOptions& options) {
  std::vector<std::unique_ptr<DataSource>> sources;
  for (const auto& sp : plan.sources) {
    const auto* entry = plugins.data.find(sp.plugin);
    if (!entry) return make_error("no data source plugin '" + sp.plugin + "'");
    const auto& params = plan.steps[sp.step].params;
    auto src = entry->factory(DataSourceContext{params, sp.plugin, sp.interval_ms, options.data_dir, options.bar_cache});
    if (!src) return src.error();
    sources.push_back(std::move(src).value());
  }
  return sources;
}

// The earliest bar of the plan's universe plus lookback_days (nullopt: no bars).
Result<std::optional<int64_t>> earliest_anchor(const dag::Plan& plan,
                                               std::vector<std::unique_ptr<DataSource>>& sources) {
  std::optional<int64_t> earliest;
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    for (const auto& sym : plan.sources[i].universe) {
      auto e = sources[i]->earliest(sym);
      if (!e) return e.error();
      if (e.value()) earliest = std::min(earliest.value_or(*e.value()), *e.value());
    }
  }
  if (!earliest) return std::optional<int64_t>();
  return std::optional<int64_t>(*earliest + plan.lookback_days * kDayMs);
}

}  // namespace

Status replay_coverage(const ReplayReport& report, const dag::Plan& plan, const ReplayOptions& options) {
  if (plan.lookback_days > 0 && report.history_bars == 0)
    return make_error("no bars in the lookback " + format_iso8601(report.history_start) + " .. " +
                      format_iso8601(report.anchor) + " under " + options.data_dir +
                      ": the warmup would be empty (pick a later --from, or add the data)");
  if (report.streamed_bars == 0)
    return make_error("no bars from " + format_iso8601(report.anchor) +
                      (report.end == std::numeric_limits<int64_t>::max() ? std::string(" on")
                                                                          : " to " + format_iso8601(report.end)) +
                      " under " + options.data_dir + ": nothing to replay");
  return {};
}

Result<ReplayReport> run_replay(Engine& engine, const PluginSet& plugins, const ReplayOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const dag::Plan& plan = engine.plan();
  auto log = logger("replay");

  auto made = make_sources(plan, plugins, options);
  if (!made) return made.error();
  std::vector<std::unique_ptr<DataSource>> sources = std::move(made).value();

  ReplayReport report;
  if (options.from) {
    report.anchor = *options.from;
  } else {
    auto own = earliest_anchor(plan, sources);
    if (!own) return own.error();
    const std::optional<int64_t> anchor = options.agree_anchor ? options.agree_anchor(*own) : *own;
    if (!anchor) return make_error("no bars for the universe under " + options.data_dir);
    report.anchor = *anchor;
  }
  report.history_start = history_start_for(report.anchor, plan.lookback_days, plan.coarsest_interval_ms);
  report.end = options.to.value_or(std::numeric_limits<int64_t>::max());
  if (report.end <= report.anchor)
    return make_error("--to " + format_iso8601(report.end) + " is not after the start " +
                      format_iso8601(report.anchor));

  std::vector<Cursor> cursors;
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    for (const auto& sym : plan.sources[i].universe) {
      const auto id = engine.symbols().find(sym);
      if (!id) return make_error("symbol " + sym + " is not in the engine's universe");
      Cursor c(i, *id, plan.sources[i].interval_ms, sym, report.history_start, report.end);
      auto more = c.load_next(*sources[i]);
      if (!more) return more.error();
      if (*more) cursors.push_back(std::move(c));
      else log->info("loaded source={} symbol={} bars=0", plan.sources[i].event, sym);
    }
  }

  // (data step, symbol) order: a cursor's index is then its CloseKey tie-break.
  std::sort(cursors.begin(), cursors.end(), [](const Cursor& a, const Cursor& b) {
    return std::tie(a.source, a.symbol) < std::tie(b.source, b.symbol);
  });

  // The expected size, for a progress display only.
  ReplayProgress progress{0, 0, report.history_start, report.history_start, 0, false};
  if (options.on_progress) {
    bool known = true;
    for (const Cursor& c : cursors) {
      std::optional<int64_t> data_end = sources[c.source]->coverage_end(c.name);
      const int64_t series_end = data_end ? std::min(c.end, *data_end) : c.end;
      if (series_end == std::numeric_limits<int64_t>::max()) {
        known = false;
        break;
      }
      if (series_end > report.history_start)
        progress.expected_bars += static_cast<uint64_t>((series_end - report.history_start) / c.interval_ms);
      progress.end = std::max(progress.end, series_end);
    }
    if (!known) progress.expected_bars = progress.end = 0;
  }
  // Often enough for a few redraws a second at millions of bars a second, rarely
  // enough that the call costs nothing.
  constexpr uint64_t kProgressEvery = 4096;

  if (options.before_stream) {
    if (Status st = options.before_stream(); !st) return st.error();
  }
  engine.set_anchor(report.anchor);
  engine.set_model_batching(model_batching_wanted());  // one close's model runs as a batch (the engine keeps the order)
  // Bars in the order they close across every series, as a live service would
  // see them (the live driver merges several feeds' history in the same order).
  CloseOrderRing order(cursors);
  int64_t last_close = std::numeric_limits<int64_t>::min();  // the virtual exchange clock
  while (!order.empty()) {
    const size_t i = order.top();
    Cursor& c = cursors[i];
    const Bar& bar = *c.bar;
    if (options.before_bar && !options.before_bar(c.key)) return make_error("replay stopped");
    if (c.last_ts != std::numeric_limits<int64_t>::min() && bar.ts - c.last_ts > c.interval_ms) {
      const ReplayGap gap{c.name, c.interval_ms, c.last_ts + c.interval_ms, bar.ts - c.interval_ms};
      if (options.gap_policy == GapPolicy::kFail)
        return make_error("gap in the data: " + describe_gap(gap) + " (--gap-policy fail)");
      note_gap(report.gaps, gap, options.gap_policy, log);
      if (options.gap_policy == GapPolicy::kReset) {
        if (auto st = engine.reset_symbol(c.source, c.symbol); !st) return st.error();
      }
    }
    c.last_ts = bar.ts;
    (bar.ts < report.anchor ? report.history_bars : report.streamed_bars)++;
    last_close = std::max(last_close, c.close_time());
    engine.on_source_bar(c.source, c.symbol, bar);
    if (options.on_progress && (++progress.bars % kProgressEvery) == 0) {
      progress.position = bar.ts;
      options.on_progress(progress);
    }
    if (engine.failure()) return *engine.failure();
    if (c.advance()) {
      order.replace_top(c.key.close);
      continue;
    }
    // The chunk is done: the next one is loaded before the series competes again,
    // so the order is the same as with every bar in memory.
    auto more = c.load_next(*sources[c.source]);
    if (!more) return more.error();
    if (*more) {
      order.replace_top(c.key.close);
    } else {
      log->info("loaded source={} symbol={} bars={}", plan.sources[c.source].event, c.name, c.total);
      c.bars = BarChunk();
      order.pop();
    }
  }
  engine.flush_models();
  if (const EngineStats& es = engine.stats(); es.model_batches > 0)
    log->info("model runs batched across symbols: {} runs in {} batches, up to {} rows per flush",
              es.batched_model_runs, es.model_batches, es.largest_model_flush);
  // The clock stops at the last bar's close: the timer ticks due by then fire.
  if (options.final_clock) last_close = options.final_clock(last_close);
  if (last_close != std::numeric_limits<int64_t>::min()) engine.on_clock(last_close);
  if (engine.failure()) return *engine.failure();
  if (report.gaps.count > kGapWarnings)
    log->warn("{} gaps in the data in all ({} missing bars); the largest: {}", report.gaps.count,
              report.gaps.missing_bars, describe_gap(*report.gaps.largest));
  if (!options.part_of_universe) {
    if (auto st = replay_coverage(report, plan, options); !st) return st.error();
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (options.on_progress) {
    progress.done = true;
    options.on_progress(progress);
  }
  return report;
}

}  // namespace af
