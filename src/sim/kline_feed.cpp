// The kline feed: publishes every subscribed stream's events as the simulated
// clock passes them, and injects the WebSocket faults per connection. io thread.

#include <utility>  // before asio's awaitable (Boost 1.74)

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/interval.hpp"
#include "sim/exchange_impl.hpp"
#include "sim/kline_format.hpp"

namespace af::sim {
namespace {

// "btcusdt@kline_1m" -> ("BTCUSDT", "1m"); nullopt for other streams.
std::optional<std::pair<std::string, std::string>> parse_kline_stream(const std::string& name) {
  const size_t at = name.find("@kline_");
  if (at == std::string::npos || at == 0) return std::nullopt;
  std::string symbol = name.substr(0, at);
  for (char& ch : symbol) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return std::make_pair(symbol, name.substr(at + 7));
}

uint64_t first_trade_id(const std::string& symbol) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : symbol) h = (h ^ ch) * 1099511628211ULL;
  return 100'000'000 + h % 900'000'000;
}

}  // namespace

int64_t SimExchange::Impl::event_time(const StreamState& s, int step) const {
  const int k = std::max(0, options.updates_per_bar);
  if (step <= k) return s.bar_ts + s.interval_ms * step / (k + 1);
  // The close comes a few ms after T, before the next bar's first update.
  const int64_t delay = std::clamp<int64_t>(options.close_delay_ms, 1, std::max<int64_t>(1, s.interval_ms / (k + 2)));
  return s.bar_ts + s.interval_ms - 1 + delay;
}

net::awaitable<void> SimExchange::Impl::tick_loop() {
  for (;;) {
    // Tick often enough for several events per bar of the shortest subscribed interval.
    int64_t shortest = kMinuteMs;
    for (const auto& [key, s] : streams) shortest = std::min(shortest, s.interval_ms);
    const double tick_ms =
        std::clamp(clock.wall_ms_for(static_cast<double>(shortest)) / (2.0 * (options.updates_per_bar + 2)), 1.0, 50.0);
    tick_timer->expires_after(std::chrono::microseconds(static_cast<int64_t>(tick_ms * 1000)));
    boost::system::error_code ec;
    co_await tick_timer->async_wait(net::redirect_error(net::use_awaitable, ec));
    if (stopping) co_return;
    tick();
  }
}

void SimExchange::Impl::tick() {
  const int64_t now = clock.now_ms();
  const double wall = clock.wall_elapsed_ms();
  const int k = std::max(0, options.updates_per_bar);

  // Streams with at least one live subscriber; drop the others.
  std::set<std::string> wanted;
  for (const auto& [id, c] : conns) {
    if (c->dead || c->route.silent_klines) continue;
    for (const auto& s : c->streams) wanted.insert(std::to_string(static_cast<int>(c->route.market)) + ":" + s);
  }
  std::erase_if(streams, [&](const auto& kv) { return !wanted.count(kv.first); });
  for (const auto& key : wanted) {
    if (streams.count(key)) continue;
    const Market market = key[0] == '0' ? Market::kFutures : Market::kSpot;
    const std::string name = key.substr(2);
    auto parsed = parse_kline_stream(name);
    if (!parsed) continue;
    auto iv = parse_interval(parsed->second);
    if (!iv || (market == Market::kFutures && *iv < kMinuteMs)) continue;
    StreamState s;
    s.market = market;
    s.name = name;
    s.symbol = parsed->first;
    note_symbol(s.symbol);
    s.interval = parsed->second;
    s.interval_ms = *iv;
    s.bar_ts = bucket_start(now, *iv);
    s.step = 1;
    while (s.step <= k + 1 && event_time(s, s.step) <= now) ++s.step;
    s.next_trade_id = static_cast<int64_t>(first_trade_id(s.symbol));
    streams.emplace(key, std::move(s));
  }

  // Every event due by now, in event-time order across streams.
  std::vector<PublishedEvent> events;
  for (auto& [key, s] : streams) {
    MarketData& md = data(s.market);
    if (!md.has_symbol(s.symbol)) continue;
    int guard = 0;
    for (;;) {
      if (s.step > k + 1) {
        s.bar_ts += s.interval_ms;
        s.step = 1;
      }
      const int64_t t = event_time(s, s.step);
      if (t > now || ++guard > 100000) break;
      auto bar = md.bar_at(s.symbol, s.interval_ms, s.bar_ts);
      if (!bar) {  // a gap in the data: nothing is published for this bar
        s.step = k + 2;
        continue;
      }
      const NumberFormat fmt = md.number_format(s.symbol, s.interval_ms);
      const bool closing = s.step == k + 1;
      KlineEvent ev;
      ev.event_time = t;
      ev.interval_ms = s.interval_ms;
      ev.closed = closing;
      ev.bar = closing ? *bar : partial_bar(*bar, static_cast<double>(t - s.bar_ts) / s.interval_ms, fmt);
      if (ev.bar.trades > 0) {
        ev.first_trade = s.next_trade_id;
        ev.last_trade = s.next_trade_id + static_cast<int64_t>(ev.bar.trades) - 1;
      }
      if (closing) s.next_trade_id += static_cast<int64_t>(bar->trades);
      PublishedEvent pe;
      pe.event_time = t;
      pe.stream = &s;
      pe.event_json = kline_event_json(s.symbol, s.interval, ev, fmt);
      pe.frame = combined_frame(s.name, pe.event_json);
      events.push_back(std::move(pe));
      ++s.step;
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const PublishedEvent& a, const PublishedEvent& b) { return a.event_time < b.event_time; });

  std::vector<std::shared_ptr<WsConn>> live;
  for (const auto& [id, c] : conns) {
    if (!c->dead && !c->closing) live.push_back(c);
  }
  for (const auto& ev : events) {
    for (const auto& c : live) {
      if (c->route.market == ev.stream->market && !c->route.silent_klines && c->subscribed(ev.stream->name)) {
        offer(*c, ev);
      }
    }
  }

  // Pings, pong deadlines and the 24 h cut (all scaled by speed). Futures ping every
  // 3 min and want a pong within 10; spot pings every 20 s and waits a minute.
  auto ping_every = [&](Market m) {
    return options.ping_interval_ms > 0
               ? static_cast<double>(options.ping_interval_ms)
               : std::max(20.0, clock.wall_ms_for(m == Market::kSpot ? 20'000.0 : 180'000.0));
  };
  auto pong_timeout = [&](Market m) {
    return options.pong_timeout_ms > 0
               ? static_cast<double>(options.pong_timeout_ms)
               : std::max(1000.0, clock.wall_ms_for(m == Market::kSpot ? 60'000.0 : 600'000.0));
  };
  const double max_age = options.max_connection_age_ms > 0 ? static_cast<double>(options.max_connection_age_ms)
                                                            : std::max(1000.0, clock.wall_ms_for(86'400'000.0));
  for (const auto& c : live) {
    if (c->dead || c->closing || c->stalled) continue;
    if (wall - c->created_wall >= max_age) {
      bump(&SimStats::ws_age_cuts);
      c->closing = true;
      c->push({OutItem::Kind::kClose, "", static_cast<uint16_t>(1001)});
      continue;
    }
    if (c->awaiting_pong && wall - c->ping_sent_wall > pong_timeout(c->route.market)) {
      bump(&SimStats::ws_pong_timeouts);
      c->closing = true;
      c->push({OutItem::Kind::kKill});
      continue;
    }
    if (wall - c->last_ping_wall >= ping_every(c->route.market)) {
      c->last_ping_wall = wall;
      if (!c->awaiting_pong) {
        c->awaiting_pong = true;
        c->ping_sent_wall = wall;
      }
      c->push({OutItem::Kind::kPing});
    }
  }
}

void SimExchange::Impl::offer(WsConn& c, const PublishedEvent& ev) {
  if (c.dead || c.closing || c.stalled) return;
  const FaultSpec& f = options.faults;
  const std::string& stream = ev.stream->name;
  std::string text = c.route.raw ? ev.event_json : ev.frame;
  if (c.rng.hit(f.disconnect)) {
    bump(&SimStats::disconnects);
    c.out.clear();
    c.closing = true;
    c.push({OutItem::Kind::kKill});
    return;
  }
  if (c.rng.hit(f.stall)) {
    bump(&SimStats::stalls);
    c.stalled = true;
    c.out.clear();
    return;
  }
  const bool closed = ev.event_json.find("\"x\":true") != std::string::npos;
  bool duplicate = false;
  if (closed) {
    if (c.rng.hit(f.missing_close)) {
      bump(&SimStats::missing_closes);
      return;
    }
    if (c.rng.hit(f.late_close)) {
      bump(&SimStats::late_closes);
      c.held.push_back({stream, std::move(text), true});
      return;
    }
    duplicate = c.rng.hit(f.duplicate);
  }
  if (c.streams.size() > 1 && c.rng.hit(f.reorder)) {
    bump(&SimStats::reorders);
    c.held.push_back({stream, std::move(text), false});
    return;
  }
  if (duplicate) {
    bump(&SimStats::duplicates);
    const bool at_once = c.rng.uniform() < 0.5;
    send_frame(c, stream, text);
    if (at_once) {
      send_frame(c, stream, std::move(text));
    } else {
      c.held.push_back({stream, std::move(text), true});  // re-delivered after the next frame
    }
    return;
  }
  send_frame(c, stream, std::move(text));
}

void SimExchange::Impl::send_frame(WsConn& c, const std::string& stream, std::string text) {
  c.push({OutItem::Kind::kText, std::move(text)});
  if (c.held.empty()) return;
  std::vector<HeldFrame> keep;
  for (auto& h : c.held) {
    const bool release = h.after_same_stream ? h.stream == stream : h.stream != stream;
    if (release) {
      c.push({OutItem::Kind::kText, std::move(h.text)});
    } else {
      keep.push_back(std::move(h));
    }
  }
  c.held = std::move(keep);
}

}  // namespace af::sim
