// REST endpoints, the bulk archive and /sim/stats of the simulated exchange. io thread.

#include <utility>  // before asio's awaitable (Boost 1.74)

#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "sim/crafted_zip.hpp"
#include "sim/exchange_impl.hpp"
#include "sim/kline_format.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_layout.hpp"

namespace af::sim {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

HttpResponse make_response(const HttpRequest& req, http::status status, std::string body,
                           std::string content_type = "application/json") {
  HttpResponse res{status, req.version()};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

HttpResponse binance_error(const HttpRequest& req, http::status status, int code, const std::string& msg) {
  return make_response(req, status, fmt::format(R"({{"code":{},"msg":"{}"}})", code, msg));
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Binance's documented klines weight: by limit on futures, flat 2 on spot.
int klines_weight(Market m, int64_t limit) {
  if (m == Market::kSpot) return 2;
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t next = std::min(s.find(sep, pos), s.size());
    if (next > pos) out.emplace_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  for (const auto& item : split(query, '&')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      out[item] = "";
    } else {
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  return out;
}

std::optional<WsRoute> SimExchange::Impl::parse_ws_route(const std::string& target) const {
  std::string_view t = target;
  const size_t qpos = t.find('?');
  std::string_view path = t.substr(0, qpos);
  const std::string_view query = qpos == std::string_view::npos ? std::string_view{} : t.substr(qpos + 1);
  WsRoute route;
  bool market_route = false;
  if (starts_with(path, "/market/")) {
    path.remove_prefix(7);
    market_route = true;
  } else if (starts_with(path, "/spot/")) {
    path.remove_prefix(5);
    route.market = Market::kSpot;
  }
  if (path == "/stream" || path == "/stream/") {
    auto q = parse_query(query);
    route.streams = split(q["streams"], '/');
  } else if (path == "/ws" || starts_with(path, "/ws/")) {
    route.raw = true;
    if (path.size() > 4) route.streams = split(path.substr(4), '/');
  } else {
    return std::nullopt;
  }
  // Since 2026 Binance serves futures klines on /market only; the bare route still
  // acknowledges them. Strict mode reproduces that, the default serves both.
  route.silent_klines = route.market == Market::kFutures && !market_route && options.strict_market_route;
  return route;
}

HttpResponse SimExchange::Impl::handle_http(const HttpRequest& req) {
  const std::string target(req.target());
  const size_t qpos = target.find('?');
  const std::string path = target.substr(0, qpos);
  const auto query = parse_query(qpos == std::string::npos ? std::string_view{} : std::string_view(target).substr(qpos + 1));

  if (path == "/sim/stats") {
    std::string body;
    {
      std::lock_guard lock(stats_mu_);
      body = stats_.json();
    }
    body.pop_back();
    body += fmt::format(R"(,"sim_time":{},"speed":{}}})", clock.now_ms(), clock.speed());
    return make_response(req, http::status::ok, std::move(body));
  }
  if (starts_with(path, "/data/")) return archive(req, path);

  Market market;
  std::string endpoint;
  if (starts_with(path, "/fapi/v1/")) {
    market = Market::kFutures;
    endpoint = path.substr(9);
  } else if (starts_with(path, "/api/v3/")) {
    market = Market::kSpot;
    endpoint = path.substr(8);
  } else {
    return make_response(req, http::status::not_found, "<html><body><h1>404 Not Found</h1></body></html>", "text/html");
  }
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.rest_requests;
  }
  if (req.method() != http::verb::get) {
    return binance_error(req, http::status::method_not_allowed, -1, "Method not allowed.");
  }

  // Weight, bans and injected rate-limit faults, per market, per wall minute.
  const double wall = clock.wall_elapsed_ms();
  Weight& w = weight[static_cast<int>(market)];
  const auto window = static_cast<int64_t>(std::floor(wall / 60000.0));  // minutes since start()
  if (window != w.window) {
    w.window = window;
    w.used = 0;
  }
  int64_t limit_param = 500;
  if (auto it = query.find("limit"); it != query.end()) {
    if (auto v = parse_int(it->second)) limit_param = *v;
  }
  w.used += endpoint == "klines" ? klines_weight(market, limit_param) : 1;
  const int weight_limit = market == Market::kFutures ? options.futures_weight_limit : options.spot_weight_limit;
  auto with_weight = [&](HttpResponse res) {
    res.set("X-MBX-USED-WEIGHT-1M", std::to_string(w.used));
    return res;
  };
  auto rate_limited = [&](http::status status, int retry_after, const std::string& msg) {
    HttpResponse res = binance_error(req, status, -1003, msg);
    res.set(http::field::retry_after, std::to_string(retry_after));
    return with_weight(std::move(res));
  };
  if (wall < ban_until_wall) {
    const int secs = std::max(1, static_cast<int>(std::ceil((ban_until_wall - wall) / 1000.0)));
    return rate_limited(static_cast<http::status>(418), secs,
                        "Way too much request weight used; IP banned until " +
                            std::to_string(now_ms() + secs * 1000) +
                            ". Please use WebSocket Streams for live updates to avoid bans.");
  }
  if (rest_rng.hit(options.faults.rest_418)) {
    bump(&SimStats::rest_418);
    ban_until_wall = wall + options.retry_after_s * 1000.0;
    return rate_limited(static_cast<http::status>(418), options.retry_after_s,
                        "Way too much request weight used; IP banned until " +
                            std::to_string(now_ms() + options.retry_after_s * 1000) +
                            ". Please use WebSocket Streams for live updates to avoid bans.");
  }
  const std::string too_many = fmt::format(
      "Too many requests; current limit of IP(127.0.0.1) is {} requests per minute. Please use WebSocket Streams "
      "for live updates to avoid polling the API.",
      weight_limit);
  if (rest_rng.hit(options.faults.rest_429)) {
    bump(&SimStats::rest_429);
    return rate_limited(http::status::too_many_requests, options.retry_after_s, too_many);
  }
  if (w.used > weight_limit) {
    const double window_end_wall = static_cast<double>(window + 1) * 60000.0;
    return rate_limited(http::status::too_many_requests,
                        std::max(1, static_cast<int>(std::ceil((window_end_wall - wall) / 1000.0))), too_many);
  }

  if (endpoint == "time") {
    return with_weight(make_response(req, http::status::ok, fmt::format(R"({{"serverTime":{}}})", clock.now_ms())));
  }
  if (endpoint == "ping") return with_weight(make_response(req, http::status::ok, "{}"));
  if (endpoint == "klines") return with_weight(klines(req, market, query));
  return with_weight(binance_error(req, http::status::not_found, -5000,
                                   fmt::format("Path {}, Method GET is invalid", path)));
}

HttpResponse SimExchange::Impl::klines(const HttpRequest& req, Market market,
                                       const std::map<std::string, std::string>& q) {
  auto mandatory = [&](const char* name) {
    return binance_error(req, http::status::bad_request, -1102,
                         fmt::format("Mandatory parameter '{}' was not sent, was empty/null, or malformed.", name));
  };
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto it = q.find(name);
    if (it == q.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  const auto symbol = get("symbol");
  if (!symbol) return mandatory("symbol");
  note_symbol(*symbol);
  const auto interval = get("interval");
  if (!interval) return mandatory("interval");
  const auto iv = parse_interval(*interval);
  if (!iv || (market == Market::kFutures && *iv < kMinuteMs)) {
    return binance_error(req, http::status::bad_request, -1120, "Invalid interval.");
  }
  MarketData& md = data(market);
  if (!md.has_symbol(*symbol)) return binance_error(req, http::status::bad_request, -1121, "Invalid symbol.");
  std::optional<int64_t> start, end;
  int64_t limit = 500;
  for (const char* name : {"startTime", "endTime", "limit"}) {
    auto text = get(name);
    if (!text) continue;
    auto v = parse_int(*text);
    if (!v) {
      return binance_error(req, http::status::bad_request, -1100,
                           fmt::format("Illegal characters found in parameter '{}'; legal range is '^[0-9]{{1,20}}$'.",
                                       name));
    }
    if (name[0] == 's') start = *v;
    if (name[0] == 'e') end = *v;
    if (name[0] == 'l') limit = *v;
  }
  if (limit <= 0) return binance_error(req, http::status::bad_request, -1130, "Data sent for parameter 'limit' is not valid.");
  const int64_t max_limit = market == Market::kFutures ? 1500 : 1000;
  limit = std::min(limit, max_limit);
  if (start && end && *start > *end) {
    return binance_error(req, http::status::bad_request, -1023, "Start time is greater than end time.");
  }

  const int64_t step = *iv;
  const int64_t now = clock.now_ms();
  const int64_t open_ts = bucket_start(now, step);
  const int64_t hi = end ? std::min(*end, now) : now;  // last allowed open time
  const NumberFormat fmt = md.number_format(*symbol, step);
  auto open_bar = [&]() -> std::optional<Bar> {
    auto b = md.bar_at(*symbol, step, open_ts);
    if (!b) return std::nullopt;
    return partial_bar(*b, static_cast<double>(now - open_ts) / static_cast<double>(step), fmt);
  };
  std::vector<Bar> rows;
  const auto ulimit = static_cast<size_t>(limit);
  if (start) {
    const int64_t from = bucket_start(*start + step - 1, step);
    const int64_t closed_end = std::min(open_ts, bucket_start(hi, step) + step);
    const int64_t last_data = open_ts;
    for (int64_t c = from; rows.size() < ulimit && c < closed_end && c <= last_data;) {
      const int64_t c_end = std::min(closed_end, c + limit * step);
      for (const Bar& b : md.bars(*symbol, step, c, c_end)) {
        if (rows.size() < ulimit) rows.push_back(b);
      }
      c = c_end;
    }
    if (rows.size() < ulimit && open_ts >= from && open_ts <= hi) {
      if (auto b = open_bar()) rows.push_back(*b);
    }
  } else {
    if (open_ts <= hi) {
      if (auto b = open_bar()) rows.push_back(*b);
    }
    const auto first = md.earliest(*symbol, step);
    int64_t c_end = std::min(open_ts, bucket_start(hi, step) + step);
    while (first && rows.size() < ulimit && c_end > *first) {
      const int64_t c_start = std::max(*first, c_end - limit * step);
      auto got = md.bars(*symbol, step, c_start, c_end);
      for (auto it = got.rbegin(); it != got.rend() && rows.size() < ulimit; ++it) rows.push_back(*it);
      c_end = c_start;
    }
    std::reverse(rows.begin(), rows.end());
  }
  std::string body = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) body += ',';
    append_rest_kline(body, rows[i], step, fmt);
  }
  body += ']';
  return make_response(req, http::status::ok, std::move(body));
}

HttpResponse SimExchange::Impl::archive(const HttpRequest& req, const std::string& path) {
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.archive_requests;
  }
  auto not_found = [&]() {
    const std::string key = path.substr(1);
    return make_response(req, http::status::not_found,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
                         "specified key does not exist.</Message><Key>" +
                             key + "</Key></Error>",
                         "application/xml");
  };
  // /data/<market>/<monthly|daily>/klines/SYM/INT/FILE
  std::string rest = path.substr(6);
  Market market;
  if (starts_with(rest, "futures/um/")) {
    market = Market::kFutures;
    rest = rest.substr(11);
  } else if (starts_with(rest, "spot/")) {
    market = Market::kSpot;
    rest = rest.substr(5);
  } else {
    return not_found();
  }
  const auto parts = split(rest, '/');
  if (parts.size() != 5 || parts[1] != "klines" || (parts[0] != "monthly" && parts[0] != "daily")) return not_found();
  const std::string& symbol = parts[2];
  note_symbol(symbol);
  const std::string& interval = parts[3];
  std::string file = parts[4];
  const bool checksum = file.size() > 9 && file.ends_with(".CHECKSUM");
  if (checksum) file.resize(file.size() - 9);
  const auto period = vision::parse_vision_file_name(file, symbol, interval);
  const auto iv = parse_interval(interval);
  if (!period || !iv || period->monthly() != (parts[0] == "monthly")) return not_found();
  // Only complete periods are published: months and days that ended before "now".
  if (period->end_ms() + options.archive_delay_ms > clock.now_ms()) return not_found();
  if (huge_zip_file(file)) {
    // The zip and its .CHECKSUM agree: only reading the entry shows what it is.
    const std::string zip = zip_declaring_size(file.substr(0, file.size() - 4) + ".csv", kCraftedCsv, kHugeZipBytes);
    if (checksum) {
      return make_response(req, http::status::ok, vision::checksum_line(zip, file), "text/plain");
    }
    bump(&SimStats::huge_zips);
    return make_response(req, http::status::ok, zip, "application/zip");
  }
  auto bytes = data(market).archive_file(symbol, interval, *iv, *period, checksum, scratch_dir);
  if (!bytes) return not_found();
  std::string body = std::move(*bytes);
  if (!checksum && !body.empty() && archive_rng.hit(options.faults.corrupt_archive)) {
    bump(&SimStats::corrupt_archives);
    // Four distinct bytes (a repeated position would flip back).
    const size_t base = archive_rng.next() % body.size();
    const size_t flips = std::min<size_t>(4, body.size());
    for (size_t i = 0; i < flips; ++i) body[(base + i * (body.size() / flips)) % body.size()] ^= static_cast<char>(0x5A);
  }
  return make_response(req, http::status::ok, std::move(body), checksum ? "text/plain" : "application/zip");
}

bool SimExchange::Impl::huge_zip_file(const std::string& file) const {
  if (!(options.faults.huge_zip > 0)) return false;
  // Decided per file, not per request: the .CHECKSUM and the zip must agree.
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : file) h = (h ^ c) * 1099511628211ULL;
  return FaultRng(options.faults.seed, h).hit(options.faults.huge_zip);
}

bool SimExchange::Impl::stall_archive(const HttpRequest& req) {
  if (!(options.faults.stall_archive > 0)) return false;
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  if (!path.starts_with("/data/") || !path.ends_with(".zip")) return false;
  if (!stall_rng.hit(options.faults.stall_archive)) return false;
  bump(&SimStats::stalled_archives);
  return true;
}

}  // namespace af::sim
