#include "clickhouse/clickhouse_poll_feed.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <stop_token>
#include <thread>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "net/http_url.hpp"

namespace af::clickhouse {

struct ClickHousePollFeed::Impl {
  ClickHousePollFeedOptions options;
  std::thread worker;

  mutable std::mutex mutex;
  std::condition_variable wake_cv;    // the worker sleeps on it between polls
  std::condition_variable output_cv;  // poll() waits for bars
  std::deque<binance::LiveFeedBar> output;
  std::optional<int64_t> anchor;
  std::optional<std::vector<int64_t>> caller_history;
  std::optional<Error> failure;
  bool history_done = false;
  bool stopping = false;
  binance::LiveFeedStats stats;
  std::stop_source stop_source;  // stop() requests it: ends a query in flight

  // Worker thread only.
  std::vector<int64_t> cursor;         // per symbol: the next ts to emit
  std::vector<int64_t> late_reported;  // per symbol: the ts last reported late (counted once)

  int64_t now() const { return options.clock ? options.clock() : now_ms(); }
  int64_t retry_ms() const { return std::min<int64_t>(options.interval_ms, 10'000); }

  void fail(Error e) {
    if (stop_source.stop_requested()) return;  // what a stop interrupts is not a failure
    logger("sources.clickhouse")->error("clickhouse poll feed failed error={}", e.message);
    std::lock_guard lock(mutex);
    if (!failure) failure = std::move(e);
    output_cv.notify_all();
  }
  // Sleeps `ms` of real time or until stop(); true when stopping.
  bool sleep(int64_t ms) {
    std::unique_lock lock(mutex);
    wake_cv.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(ms, 0)), [&] { return stopping; });
    return stopping;
  }
  bool should_stop() {
    std::lock_guard lock(mutex);
    return stopping;
  }
  void run();
  // One query for every symbol behind; emits what is due. false: the query failed.
  bool poll_table(ClickHouseBarTable& table, int64_t now, bool history_only);
  bool read_and_emit(ClickHouseBarTable& table, const std::vector<BarRange>& ranges,
                     const std::vector<uint32_t>& symbol_of, int64_t now, int64_t closed_end);
};

bool ClickHousePollFeed::Impl::poll_table(ClickHouseBarTable& table, int64_t now, bool history_only) {
  const int64_t iv = options.interval_ms;
  const int64_t a = *anchor;
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
  const int64_t a = *anchor;
  const ClickHouseReadStats before = table.stats();
  auto read = table.read(ranges, BarOrigin::kRest);
  const ClickHouseReadStats& after = table.stats();
  {
    std::lock_guard lock(mutex);
    ++stats.rest_requests;
    stats.rows_read += after.rows - before.rows;
    stats.assembler.duplicates += after.duplicates - before.duplicates;
    stats.assembler.revisions += after.revisions - before.revisions;
    if (!read) {
      ++stats.rest_failures;
    } else {
      stats.last_message_ms = now_ms();
    }
  }
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
  std::vector<binance::LiveFeedBar> out;
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
      out.push_back(binance::LiveFeedBar{s, b, history, 0});
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
  const int64_t wall = now_ms();
  const int64_t wall_us = binance::feed_clock_us();
  std::lock_guard lock(mutex);
  for (auto& b : out) {
    b.final_at_ms = wall;
    b.final_at_us = wall_us;
    if (b.history) ++stats.history_bars;
    else {
      ++stats.live_bars;
      ++stats.assembler.emitted;
    }
    output.push_back(b);
  }
  stats.assembler.gaps_detected += gaps_detected;
  stats.assembler.real_gaps += real_gaps;
  stats.assembler.requests = stats.rest_requests;
  if (!out.empty()) output_cv.notify_all();
  return true;
}

void ClickHousePollFeed::Impl::run() {
  const int64_t iv = options.interval_ms;
  const int64_t a = *anchor;
  auto log = logger("sources.clickhouse");

  // 1. Where each symbol's history starts.
  std::vector<int64_t> from(options.universe.size());
  if (options.history_from_caller) {
    std::unique_lock lock(mutex);
    wake_cv.wait(lock, [&] { return stopping || caller_history.has_value(); });
    if (stopping) return;
    if (caller_history->size() != from.size()) {
      lock.unlock();
      fail(make_error(options.table.name + ": begin_history got " + std::to_string(caller_history->size()) +
                      " starts for a universe of " + std::to_string(from.size())));
      return;
    }
    from = *caller_history;
  } else {
    const int64_t align = options.start_align_ms > 0 ? options.start_align_ms : iv;
    int64_t start = a - options.lookback_ms;
    if (bucket_start(start, align) != start) start = bucket_start(start, align) + align;
    std::fill(from.begin(), from.end(), start);
  }
  cursor.resize(from.size());
  late_reported.assign(from.size(), std::numeric_limits<int64_t>::min());
  for (size_t s = 0; s < from.size(); ++s) cursor[s] = std::min(bucket_start(from[s], iv) == from[s] ? from[s]
                                                                                                   : bucket_start(from[s], iv) + iv,
                                                                a);

  // 2. The table: a missing table or column stops the feed; a server that does not
  // answer yet is asked again.
  ClickHouseBarTableConfig config = options.table;
  config.stop = stop_source.get_token();
  ClickHouseBarTable table(config);
  for (;;) {
    if (should_stop()) return;
    Status st = table.check();
    if (st) break;
    {
      std::lock_guard lock(mutex);
      ++stats.rest_failures;
    }
    if (!st.error().transient) {
      fail(st.error());
      return;
    }
    log->warn("table not reachable yet, asking again in {} ms error={}", retry_ms(), st.error().message);
    if (sleep(retry_ms())) return;
  }
  log->info("clickhouse poll feed anchor={} table={}.{} symbols={} interval={}", format_iso8601(a),
            options.table.database, options.table.table_name, options.universe.size(), interval_name(iv));

  // 3. History, then live, with one schedule: a symbol's next bar is due at its
  // close + buffer; the table is asked then, again every retry_ms while a bar is
  // late or the query failed, and at least once an interval.
  bool done = false;
  int64_t last_poll = 0;
  for (;;) {
    if (should_stop()) return;
    const int64_t now = this->now();
    const bool ok = poll_table(table, now, !done);
    last_poll = now;
    if (ok && !done) {
      // History is complete when every symbol reached the anchor, or when the last
      // history bar's deadline passed (a real gap at the end of the history).
      done = std::all_of(cursor.begin(), cursor.end(), [&](int64_t c) { return c >= a; }) ||
             now >= a + options.buffer_ms;
      if (done) {
        std::lock_guard lock(mutex);
        history_done = true;
        output_cv.notify_all();
        continue;  // the closed live bars, at once
      }
    }
    if (options.poll_every_ms > 0) {
      if (sleep(options.poll_every_ms)) return;
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
      if (sleep(std::min<int64_t>(next - this->now(), 1000))) return;
    }
  }
}

ClickHousePollFeed::ClickHousePollFeed(ClickHousePollFeedOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

ClickHousePollFeed::~ClickHousePollFeed() { stop(); }

Status ClickHousePollFeed::start() {
  Impl& im = *impl_;
  const auto& o = im.options;
  if (im.worker.joinable()) return make_error(o.table.name + ": already started");
  if (o.universe.empty()) return make_error(o.table.name + ": empty universe");
  if (o.interval_ms <= 0) return make_error(o.table.name + ": no interval");
  auto url = net::parse_url(o.table.url);
  if (!url) return make_error(o.table.name + ": " + url.error().message);
  if (url->scheme != "http" && url->scheme != "https")
    return make_error(o.table.name + ": url '" + o.table.url + "' is not http:// or https://");
  {
    std::lock_guard lock(im.mutex);
    im.anchor = bucket_start(im.now(), o.interval_ms);
  }
  im.worker = std::thread([&im] {
    // The thread's top level: an exception becomes the feed's failure, never std::terminate.
    try {
      im.run();
    } catch (const std::exception& e) {
      im.fail(make_error(im.options.table.name + ": internal error: " + e.what()));
    } catch (...) {
      im.fail(make_error(im.options.table.name + ": internal error: unknown exception"));
    }
  });
  return {};
}

std::optional<int64_t> ClickHousePollFeed::anchor() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->anchor;
}

void ClickHousePollFeed::begin_history(std::vector<int64_t> from, bool) {
  std::lock_guard lock(impl_->mutex);
  impl_->caller_history = std::move(from);
  impl_->wake_cv.notify_all();
}

bool ClickHousePollFeed::poll(std::vector<binance::LiveFeedBar>& out, int64_t wait_ms) {
  Impl& im = *impl_;
  std::unique_lock lock(im.mutex);
  im.output_cv.wait_for(lock, std::chrono::milliseconds(wait_ms),
                        [&] { return !im.output.empty() || im.failure.has_value() || im.stopping; });
  while (!im.output.empty()) {
    out.push_back(im.output.front());
    im.output.pop_front();
  }
  return !im.failure.has_value();
}

std::optional<Error> ClickHousePollFeed::error() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failure;
}

bool ClickHousePollFeed::history_done() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->history_done;
}

binance::LiveFeedStats ClickHousePollFeed::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

int64_t ClickHousePollFeed::stale_after_ms() const {
  const auto& o = impl_->options;
  return o.stale_after_ms > 0 ? o.stale_after_ms : 3 * o.interval_ms + o.buffer_ms;
}

void ClickHousePollFeed::stop() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mutex);
    im.stopping = true;
    im.wake_cv.notify_all();
    im.output_cv.notify_all();
  }
  im.stop_source.request_stop();
  if (im.worker.joinable()) im.worker.join();
}

}  // namespace af::clickhouse
