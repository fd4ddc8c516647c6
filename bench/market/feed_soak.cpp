// feed_soak: the issue-4 soak run. A LiveMarketFeed runs against an in-process
// simulated exchange (src/sim) that serves a Binance Vision mirror at high speed
// with every fault switched on, until the simulated clock has passed start + days;
// then every bar the feed delivered (history and live) is compared with the mirror
// read directly through vision::VisionSource: count per symbol, missing, doubled, values.
// Prints one key=value line on stdout; exit code 0 only when the bars are exact.
//
//   feed_soak --data /work/shared/data/binance-vision --start 2023-09-01T00:00:00Z
//             --days 30 --speed 6000 [--symbols FILUSDT,NEARUSDT] [--interval 1m]
//             [--faults all] [--lookback-days 3] [--tls]
//
// Not run by ctest (minutes long). Threads: main (polls the feed), the feed's
// worker and WebSocket io thread, the exchange's io thread.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "runtime/warmup.hpp"
#include "sim/sim_exchange.hpp"
#include "binance/live_market_feed.hpp"
#include "vision/vision_source.hpp"

namespace {

namespace fs = std::filesystem;
using af::Bar;

struct Args {
  std::string data;
  std::string start = "2023-09-01T00:00:00Z";
  int64_t days = 30;
  double speed = 6000;
  std::vector<std::string> symbols{"FILUSDT", "NEARUSDT"};
  std::string interval = "1m";
  std::string faults = "all";
  int64_t lookback_days = 3;
  bool tls = false;
  int64_t stale_after_ms = 0;  // 0: a wall time worth ~5 bars at this speed, at least 200 ms
  int64_t timeout_s = 1800;    // give up (and report) after this much wall time
  std::string log_level = "warn";
  // REST limits are wall-time quantities the exchange does not scale with its speed
  // (docs/sim_exchange.md): the feed's weight budget per wall minute, the
  // exchange's limit per wall minute, and Retry-After (whole seconds) of an
  // injected 429 / 418. Defaults: Binance's.
  int64_t rest_budget = 1000;
  int sim_weight_limit = 2400;
  int retry_after_s = 1;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    const size_t e = s.find(',', b);
    const std::string item = s.substr(b, e == std::string::npos ? std::string::npos : e - b);
    if (!item.empty()) out.push_back(item);
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "feed_soak: %s\nusage: feed_soak --data DIR [--start ISO] [--days N] [--speed X] [--symbols A,B] "
               "[--interval 1m] [--faults SPEC] [--lookback-days N] [--stale-ms MS] [--timeout-s S] [--tls] "
               "[--log LEVEL] [--rest-budget W] [--sim-weight-limit W] [--retry-after-s S]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--data") a.data = val();
    else if (k == "--start") a.start = val();
    else if (k == "--days") a.days = std::atoll(val().c_str());
    else if (k == "--speed") a.speed = std::atof(val().c_str());
    else if (k == "--symbols") a.symbols = split(val());
    else if (k == "--interval") a.interval = val();
    else if (k == "--faults") a.faults = val();
    else if (k == "--lookback-days") a.lookback_days = std::atoll(val().c_str());
    else if (k == "--stale-ms") a.stale_after_ms = std::atoll(val().c_str());
    else if (k == "--timeout-s") a.timeout_s = std::atoll(val().c_str());
    else if (k == "--log") a.log_level = val();
    else if (k == "--rest-budget") a.rest_budget = std::atoll(val().c_str());
    else if (k == "--sim-weight-limit") a.sim_weight_limit = std::atoi(val().c_str());
    else if (k == "--retry-after-s") a.retry_after_s = std::atoi(val().c_str());
    else if (k == "--tls") a.tls = true;
    else return usage(("unknown argument " + k).c_str());
  }
  if (a.data.empty()) return usage("--data is required");
  const auto start_ms = af::parse_iso8601(a.start);
  if (!start_ms) return usage("bad --start");
  const auto iv = af::parse_interval(a.interval);
  if (!iv) return usage("bad --interval");
  auto faults = af::sim::parse_fault_spec(a.faults);
  if (!faults) return usage(faults.error().message.c_str());
  af::set_log_level(a.log_level);

  const fs::path work = fs::temp_directory_path() / ("feed_soak_" + std::to_string(::getpid()));
  fs::create_directories(work);

  af::sim::SimExchangeOptions so;
  so.data_dir = a.data;
  so.start_ms = *start_ms;
  so.speed = a.speed;
  so.faults = *faults;
  so.strict_market_route = true;
  so.futures_weight_limit = a.sim_weight_limit;
  so.retry_after_s = a.retry_after_s;
  if (a.tls) so.tls_cert_dir = (work / "certs").string();
  af::sim::SimExchange exchange(so);
  if (auto st = exchange.start(0); !st) {
    std::fprintf(stderr, "feed_soak: exchange: %s\n", st.error().message.c_str());
    return 1;
  }
  const std::string host = "127.0.0.1:" + std::to_string(exchange.port());
  const std::string http = a.tls ? "https://localhost:" + std::to_string(exchange.port()) : "http://" + host;
  const std::string ws = a.tls ? "wss://localhost:" + std::to_string(exchange.port()) : "ws://" + host;

  af::binance::LiveMarketFeedOptions o;
  o.market = af::binance::BinanceMarket::kFutures;
  o.universe = a.symbols;
  o.interval_ms = *iv;
  o.ws_url = ws + "/market/stream";
  o.rest_url = http;
  o.vision_url = http;
  o.cache_dir = (work / "cache").string();
  o.ca_file = exchange.ca_file();
  // The feed's clocks (buffer, stale watchdog) run on wall time; the exchange's
  // runs `speed` times faster. A silence of a few bars' worth of wall time is a stall.
  const int64_t bar_wall_ms = static_cast<int64_t>(static_cast<double>(*iv) / a.speed);
  o.stale_after_ms = a.stale_after_ms > 0 ? a.stale_after_ms : std::max<int64_t>(200, 5 * bar_wall_ms);
  o.buffer_ms = std::max<int64_t>(1000, 2 * bar_wall_ms);
  o.anchor_timeout_ms = 20'000;
  o.rest_weight_budget = a.rest_budget;

  const auto wall0 = std::chrono::steady_clock::now();
  af::binance::LiveMarketFeed feed(o);
  if (auto st = feed.start(); !st) {
    std::fprintf(stderr, "feed_soak: feed: %s\n", st.error().message.c_str());
    return 1;
  }
  auto anchor = feed.wait_anchor();
  if (!anchor) {
    std::fprintf(stderr, "feed_soak: anchor: %s\n", anchor.error().message.c_str());
    return 1;
  }
  const int64_t lookback_ms = a.lookback_days * af::kDayMs;
  feed.begin_history(std::vector<int64_t>(a.symbols.size(), af::warmup_start(*anchor, lookback_ms, *iv)), true);
  const int64_t end_ms = *start_ms + a.days * af::kDayMs;  // bars with ts < end_ms are checked
  std::vector<std::vector<Bar>> got(a.symbols.size());
  std::vector<af::LiveFeedBar> batch;
  bool failed = false, timed_out = false;
  uint64_t from_stream = 0, from_rest = 0, from_archive = 0;
  auto done = [&] {
    if (exchange.sim_now_ms() < end_ms + *iv) return false;
    for (const auto& g : got) {
      if (g.empty() || g.back().ts + *iv < end_ms) return false;
    }
    return true;
  };
  int64_t last_report = 0;
  while (!done()) {
    batch.clear();
    if (!feed.poll(batch, 100)) {
      failed = true;
      break;
    }
    for (const auto& b : batch) {
      got[b.symbol].push_back(b.bar);
      if (b.bar.ts >= end_ms) continue;
      if (b.bar.origin == af::BarOrigin::kStream) ++from_stream;
      else if (b.bar.origin == af::BarOrigin::kRest) ++from_rest;
      else ++from_archive;
    }
    const auto wall = std::chrono::steady_clock::now() - wall0;
    const int64_t wall_s = std::chrono::duration_cast<std::chrono::seconds>(wall).count();
    if (wall_s >= last_report + 30) {
      last_report = wall_s;
      std::fprintf(stderr, "feed_soak: wall=%llds sim=%s feed=%s\n", static_cast<long long>(wall_s),
                   af::format_iso8601(exchange.sim_now_ms()).c_str(),
                   got[0].empty() ? "-" : af::format_iso8601(got[0].back().ts).c_str());
    }
    if (wall_s > a.timeout_s) {
      timed_out = true;
      break;
    }
  }
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const auto fs_stats = feed.stats();
  const auto error = feed.error();
  feed.stop();
  const auto sim = exchange.stats();
  exchange.stop();

  // The mirror, read directly, over the range the feed delivered.
  af::vision::VisionSource mirror(a.data, af::vision::VisionMarket::kFuturesUm, *iv);
  uint64_t bars = 0, expected = 0, missing = 0, doubled = 0, mismatched = 0, extra = 0, unordered = 0;
  std::string per_symbol;
  for (size_t s = 0; s < a.symbols.size(); ++s) {
    auto& g = got[s];
    // History starts at anchor - lookback (aligned to the interval, as the anchor is).
    const int64_t first = *anchor - lookback_ms;
    auto truth = mirror.history(a.symbols[s], first, end_ms);
    if (!truth) {
      std::fprintf(stderr, "feed_soak: mirror: %s\n", truth.error().message.c_str());
      return 1;
    }
    for (size_t i = 1; i < g.size(); ++i) {
      if (g[i].ts <= g[i - 1].ts) ++unordered;
    }
    std::map<int64_t, std::vector<const Bar*>> by_ts;
    uint64_t n = 0;
    for (const Bar& b : g) {
      if (b.ts >= end_ms) continue;
      by_ts[b.ts].push_back(&b);
      ++n;
    }
    bars += n;
    expected += truth->size();
    uint64_t sym_missing = 0, sym_mismatched = 0;
    for (const Bar& t : *truth) {
      auto it = by_ts.find(t.ts);
      if (it == by_ts.end()) {
        if (sym_missing++ < 5) std::fprintf(stderr, "missing %s %s\n", a.symbols[s].c_str(), af::format_iso8601(t.ts).c_str());
        continue;
      }
      if (it->second.size() > 1) doubled += it->second.size() - 1;
      for (const Bar* b : it->second) {
        if (!b->same_values(t)) {
          if (sym_mismatched++ < 5)
            std::fprintf(stderr, "mismatch %s %s origin=%s close=%.8g/%.8g volume=%.8g/%.8g\n", a.symbols[s].c_str(),
                         af::format_iso8601(t.ts).c_str(), af::bar_origin_name(b->origin), b->close, t.close,
                         b->volume, t.volume);
        }
      }
      by_ts.erase(it);
    }
    missing += sym_missing;
    mismatched += sym_mismatched;
    extra += by_ts.size();
    per_symbol += (per_symbol.empty() ? "" : ",") + a.symbols[s] + ":" + std::to_string(n) + "/" +
                  std::to_string(truth->size());
  }
  std::error_code ec;
  fs::remove_all(work, ec);

  const uint64_t delivered = from_stream + from_rest + from_archive;
  const uint64_t live = from_stream + from_rest;
  std::printf(
      "feed_soak symbols=%zu interval=%s start=%s days=%lld speed=%g tls=%d faults=%s rest_budget=%lld "
      "sim_weight_limit=%d retry_after_s=%d anchor=%s bars=%llu expected=%llu "
      "per_symbol=%s missing=%llu doubled=%llu mismatched=%llu extra=%llu unordered=%llu history_bars=%llu "
      "live_bars=%llu from_stream_pct=%.1f from_rest=%llu reconnects=%llu rest_requests=%llu rest_failures=%llu "
      "asm_duplicates=%llu asm_revisions=%llu asm_gaps=%llu asm_real_gaps=%llu sim_ws_connections=%llu "
      "sim_disconnects=%llu sim_stalls=%llu sim_duplicates=%llu sim_late_closes=%llu sim_missing_closes=%llu "
      "sim_reorders=%llu sim_rest_requests=%llu sim_rest_429=%llu sim_rest_418=%llu sim_corrupt_archives=%llu "
      "sim_age_cuts=%llu wall_seconds=%.1f feed_error=%s timed_out=%d\n",
      a.symbols.size(), a.interval.c_str(), a.start.c_str(), static_cast<long long>(a.days), a.speed, a.tls ? 1 : 0,
      faults->text().c_str(), static_cast<long long>(a.rest_budget), a.sim_weight_limit, a.retry_after_s,
      af::format_iso8601(*anchor).c_str(), static_cast<unsigned long long>(bars), static_cast<unsigned long long>(expected),
      per_symbol.c_str(), static_cast<unsigned long long>(missing), static_cast<unsigned long long>(doubled),
      static_cast<unsigned long long>(mismatched), static_cast<unsigned long long>(extra),
      static_cast<unsigned long long>(unordered), static_cast<unsigned long long>(fs_stats.history_bars),
      static_cast<unsigned long long>(fs_stats.live_bars),
      live > 0 ? 100.0 * static_cast<double>(from_stream) / static_cast<double>(live) : 0.0,
      static_cast<unsigned long long>(from_rest), static_cast<unsigned long long>(fs_stats.reconnects),
      static_cast<unsigned long long>(fs_stats.requests), static_cast<unsigned long long>(fs_stats.request_failures),
      static_cast<unsigned long long>(fs_stats.duplicates),
      static_cast<unsigned long long>(fs_stats.revisions),
      static_cast<unsigned long long>(fs_stats.missing_bars),
      static_cast<unsigned long long>(fs_stats.real_gaps),
      static_cast<unsigned long long>(sim.ws_connections), static_cast<unsigned long long>(sim.disconnects),
      static_cast<unsigned long long>(sim.stalls), static_cast<unsigned long long>(sim.duplicates),
      static_cast<unsigned long long>(sim.late_closes), static_cast<unsigned long long>(sim.missing_closes),
      static_cast<unsigned long long>(sim.reorders), static_cast<unsigned long long>(sim.rest_requests),
      static_cast<unsigned long long>(sim.rest_429), static_cast<unsigned long long>(sim.rest_418),
      static_cast<unsigned long long>(sim.corrupt_archives), static_cast<unsigned long long>(sim.ws_age_cuts),
      wall_seconds, error ? ("\"" + error->message + "\"").c_str() : "none", timed_out ? 1 : 0);
  (void)delivered;
  const bool exact = !failed && !timed_out && missing == 0 && doubled == 0 && mismatched == 0 && extra == 0 &&
                     unordered == 0 && bars == expected;
  return exact ? 0 : 3;
}
