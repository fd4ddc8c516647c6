#include "clickhouse/clickhouse_poll_feed.hpp"

#include <algorithm>
#include <limits>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "net/http_url.hpp"

namespace af::clickhouse {

// The worker's state and phases: where history starts, the table's schema, then
// one polling schedule for history and live bars.
struct ClickHousePollFeed::Impl {
  ClickHousePollFeedOptions options;
  FeedHandoff& handoff;
  int64_t anchor = 0;  // set by start(), before the worker runs

  // Worker thread only.
  std::vector<int64_t> cursor;         // per symbol: the next ts to emit
  std::vector<int64_t> late_reported;  // per symbol: the ts last reported late (counted once)
  std::vector<LiveFeedBar> out;        // what one query releases, reused

  Impl(ClickHousePollFeedOptions o, FeedHandoff& h) : options(std::move(o)), handoff(h) {}

  int64_t now() const { return options.clock ? options.clock() : now_ms(); }
  int64_t retry_ms() const { return std::min<int64_t>(options.interval_ms, 10'000); }

  void run();
  // Each symbol's first ts from begin_history(); false when stopping or failed.
  bool start_cursors();
  // The table answers and has the columns; false when stopping or failed.
  bool await_table(ClickHouseBarTable& table);
  // One query for every symbol behind; emits what is due. false: the query failed.
  bool poll_table(ClickHouseBarTable& table, int64_t now, bool history_only);
  bool read_and_emit(ClickHouseBarTable& table, const std::vector<BarRange>& ranges,
                     const std::vector<uint32_t>& symbol_of, int64_t now, int64_t closed_end);
};

bool ClickHousePollFeed::Impl::poll_table(ClickHouseBarTable& table, int64_t now, bool history_only) {
  const int64_t iv = options.interval_ms;
  const int64_t a = anchor;
  int64_t closed_end = bucket_start(now, iv);  // bars before it have closed
  if (history_only) closed_end = std::min(closed_end, a);
  std::vector<BarRange> ranges;
  std::vector<uint32_t> symbol_of;
  for (uint32_t s = 0; s < options.universe.size(); ++s) {
    if (cursor[s] < closed_end) {
      ranges.push_back(BarRange{options.universe[s], cursor[s], closed_end});
      symbol_of.push_back(s);
    }
  }
  // Several symbols per query, but a bounded number of rows (a warmup of many
  // symbols would otherwise be one huge answer).
  size_t begin = 0;
  int64_t rows = 0;
  for (size_t r = 0; r < ranges.size(); ++r) {
    rows += (ranges[r].to - ranges[r].from) / iv;
    if (r + 1 == ranges.size() || rows + (ranges[r + 1].to - ranges[r + 1].from) / iv > options.max_rows_per_query) {
      std::vector<BarRange> chunk(ranges.begin() + static_cast<std::ptrdiff_t>(begin),
                                  ranges.begin() + static_cast<std::ptrdiff_t>(r + 1));
      std::vector<uint32_t> chunk_symbols(symbol_of.begin() + static_cast<std::ptrdiff_t>(begin),
                                          symbol_of.begin() + static_cast<std::ptrdiff_t>(r + 1));
      if (!read_and_emit(table, chunk, chunk_symbols, now, closed_end)) return false;
      begin = r + 1;
      rows = 0;
    }
  }
  return true;
}

bool ClickHousePollFeed::Impl::read_and_emit(ClickHouseBarTable& table, const std::vector<BarRange>& ranges,
                                             const std::vector<uint32_t>& symbol_of, int64_t now,
                                             int64_t closed_end) {
  const int64_t iv = options.interval_ms;
  const int64_t a = anchor;
  const ClickHouseReadStats before = table.stats();
  auto read = table.read(ranges, BarOrigin::kRest);
  const ClickHouseReadStats& after = table.stats();
  handoff.update_stats([&](LiveFeedStats& s) {
    ++s.requests;
    s.rows_read += after.rows - before.rows;
    s.duplicates += after.duplicates - before.duplicates;
    s.revisions += after.revisions - before.revisions;
    if (!read) {
      ++s.request_failures;
    } else {
      s.last_data_ms = now_ms();
    }
  });
  if (!read) {
    static RateLimiter limiter(5, 60'000);
    uint64_t suppressed = 0;
    if (limiter.allow(suppressed)) {
      logger("sources.clickhouse")
          ->warn("poll failed, asking again in {} ms error={} (suppressed={})", retry_ms(), read.error().message,
                 suppressed);
    }
    return false;
  }

  auto log = logger("sources.clickhouse");
  out.clear();
  uint64_t gaps_detected = 0, real_gaps = 0;
  for (size_t r = 0; r < ranges.size(); ++r) {
    const uint32_t s = symbol_of[r];
    const std::string& sym = options.universe[s];
    for (Bar b : (*read)[r]) {
      if (b.ts < cursor[s]) continue;
      if (b.ts > cursor[s]) {
        // A hole before b: wait for it until its close + buffer; after that it is a real gap.
        if (now < cursor[s] + iv + options.buffer_ms) break;
        const int64_t missing = (b.ts - cursor[s]) / iv;
        real_gaps += static_cast<uint64_t>(missing);
        if (cursor[s] >= a) {
          gaps_detected += static_cast<uint64_t>(missing) - (late_reported[s] == cursor[s] ? 1 : 0);
          log->warn("gap symbol={} from={} to={} bars={}: not in the table, moving on", sym,
                    format_iso8601(cursor[s]), format_iso8601(b.ts), missing);
        }
        cursor[s] = b.ts;
      }
      const bool history = b.ts < a;
      b.origin = history ? BarOrigin::kArchive : BarOrigin::kRest;
      out.push_back(LiveFeedBar{s, b, history, 0});
      cursor[s] = b.ts + iv;
    }
    if (cursor[s] < closed_end && now >= cursor[s] + iv + options.buffer_ms && late_reported[s] != cursor[s] &&
        cursor[s] >= a) {
      late_reported[s] = cursor[s];
      ++gaps_detected;
      log->warn("late bar symbol={} ts={}: not in the table by close + {} ms, asking again at each poll", sym,
                format_iso8601(cursor[s]), options.buffer_ms);
    }
  }
  // The counts before the bars: whoever sees a bar sees the gaps before it.
  handoff.update_stats([&](LiveFeedStats& s) {
    s.missing_bars += gaps_detected;
    s.real_gaps += real_gaps;
  });
  handoff.push(out);
  return true;
}

bool ClickHousePollFeed::Impl::start_cursors() {
  auto request = handoff.wait_history_request();
  if (!request) return false;
  if (request->from.size() != options.universe.size()) {
    handoff.fail(make_error(options.table.name + ": begin_history got " + std::to_string(request->from.size()) +
                            " starts for a universe of " + std::to_string(options.universe.size())));
    return false;
  }
  cursor.resize(request->from.size());
  late_reported.assign(request->from.size(), std::numeric_limits<int64_t>::min());
  for (size_t s = 0; s < cursor.size(); ++s)
    cursor[s] = std::min(bucket_ceil(request->from[s], options.interval_ms), anchor);
  return true;
}

bool ClickHousePollFeed::Impl::await_table(ClickHouseBarTable& table) {
  for (;;) {
    if (handoff.stopping()) return false;
    Status st = table.check();
    if (st) return true;
    handoff.update_stats([](LiveFeedStats& s) { ++s.request_failures; });
    if (!st.error().transient) {
      handoff.fail(st.error());
      return false;
    }
    logger("sources.clickhouse")
        ->warn("table not reachable yet, asking again in {} ms error={}", retry_ms(), st.error().message);
    if (handoff.sleep_for(retry_ms())) return false;
  }
}

void ClickHousePollFeed::Impl::run() {
  const int64_t iv = options.interval_ms;
  const int64_t a = anchor;

  // 1. Where each symbol's history starts.
  if (!start_cursors()) return;

  // 2. The table: a missing table or column stops the feed; a server that does not
  // answer yet is asked again.
  ClickHouseBarTableConfig config = options.table;
  config.stop = handoff.stop_token();
  ClickHouseBarTable table(config);
  if (!await_table(table)) return;
  logger("sources.clickhouse")
      ->info("clickhouse poll feed anchor={} table={}.{} symbols={} interval={}", format_iso8601(a),
             options.table.database, options.table.table_name, options.universe.size(), interval_name(iv));

  // 3. History, then live, with one schedule: a symbol's next bar is due at its
  // close + buffer; the table is asked then, again every retry_ms while a bar is
  // late or the query failed, and at least once an interval.
  bool done = false;
  int64_t last_poll = 0;
  for (;;) {
    if (handoff.stopping()) return;
    const int64_t now = this->now();
    const bool ok = poll_table(table, now, !done);
    last_poll = now;
    if (ok && !done) {
      // History is complete when every symbol reached the anchor, or when the last
      // history bar's deadline passed (a real gap at the end of the history).
      done = std::all_of(cursor.begin(), cursor.end(), [&](int64_t c) { return c >= a; }) ||
             now >= a + options.buffer_ms;
      if (done) {
        handoff.mark_history_done();
        continue;  // the closed live bars, at once
      }
    }
    if (options.poll_every_ms > 0) {
      if (handoff.sleep_for(options.poll_every_ms)) return;
      continue;
    }
    int64_t next;
    if (!ok) {
      next = last_poll + retry_ms();
    } else {
      int64_t due = std::numeric_limits<int64_t>::max();
      for (int64_t c : cursor) due = std::min(due, c + iv + options.buffer_ms);
      next = due > now ? due : last_poll + retry_ms();
      next = std::min(next, last_poll + iv);
    }
    // Sleep in steps of at most a second, so that a clock that jumps is followed.
    while (this->now() < next) {
      if (handoff.sleep_for(std::min<int64_t>(next - this->now(), 1000))) return;
    }
  }
}

ClickHousePollFeed::ClickHousePollFeed(ClickHousePollFeedOptions options)
    : QueuedLiveFeed("sources.clickhouse", "clickhouse poll feed", options.table.name),
      impl_(std::make_unique<Impl>(std::move(options), handoff())) {}

ClickHousePollFeed::~ClickHousePollFeed() { stop(); }

Status ClickHousePollFeed::start() {
  Impl& im = *impl_;
  const auto& o = im.options;
  if (worker_started()) return make_error(o.table.name + ": already started");
  if (o.universe.empty()) return make_error(o.table.name + ": empty universe");
  if (o.interval_ms <= 0) return make_error(o.table.name + ": no interval");
  auto url = net::parse_url(o.table.url);
  if (!url) return make_error(o.table.name + ": " + url.error().message);
  if (url->scheme != "http" && url->scheme != "https")
    return make_error(o.table.name + ": url '" + o.table.url + "' is not http:// or https://");
  im.anchor = bucket_start(im.now(), o.interval_ms);
  handoff().set_anchor(im.anchor);
  start_worker([&im] { im.run(); });
  return {};
}

int64_t ClickHousePollFeed::stale_after_ms() const {
  const auto& o = impl_->options;
  return o.stale_after_ms > 0 ? o.stale_after_ms : 3 * o.interval_ms + o.buffer_ms;
}

LiveFeedFactory clickhouse_poll_feed_factory() {
  return [](const DataSourceContext& ctx) -> Result<std::unique_ptr<LiveFeed>> {
    if (!ctx.live) return make_error(ctx.plugin + ": a live feed needs the live service's settings");
    ClickHousePollFeedOptions o;
    o.table = clickhouse_bar_table_config(ctx.params);
    o.table.name = ctx.step_path + " (data.clickhouse_poll)";
    o.universe = ctx.universe;
    o.interval_ms = ctx.interval_ms;
    o.buffer_ms = ctx.live->buffer_ms;
    o.stale_after_ms = ctx.live->stale_after_ms;
    return std::unique_ptr<LiveFeed>(std::make_unique<ClickHousePollFeed>(std::move(o)));
  };
}

}  // namespace af::clickhouse
