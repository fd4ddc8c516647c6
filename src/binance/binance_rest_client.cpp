#include "binance/binance_rest_client.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <thread>

#include "common/interval.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "net/http_url.hpp"

namespace af::binance {
namespace {

bool dom_double(simdjson::dom::element e, double& out) {
  if (e.is_string()) {
    std::string_view s = e.get_string().value_unsafe();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
  }
  return !e.get_double().get(out) && std::isfinite(out);
}

bool dom_int(simdjson::dom::element e, int64_t& out) {
  if (e.is_string()) {
    std::string_view s = e.get_string().value_unsafe();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  }
  return !e.get_int64().get(out);
}

// Binance's error body: {"code":-1121,"msg":"Invalid symbol."}.
std::string binance_message(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc)) return body.substr(0, 200);
  std::string_view msg;
  int64_t code = 0;
  std::string out;
  if (!doc["msg"].get_string().get(msg)) out = std::string(msg);
  if (!doc["code"].get_int64().get(code)) out += " (code " + std::to_string(code) + ")";
  return out.empty() ? body.substr(0, 200) : out;
}

int64_t parse_retry_after_ms(const std::string& value) {
  int64_t seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || seconds < 0) return -1;
  return seconds * 1000;
}

}  // namespace

const char* binance_market_name(BinanceMarket m) { return m == BinanceMarket::kFutures ? "futures" : "spot"; }

BinanceRestClient::BinanceRestClient(BinanceRestOptions options)
    : options_(std::move(options)), http_(options_.http) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

void BinanceRestClient::wait(int64_t ms) {
  if (ms <= 0) return;
  if (options_.sleep) options_.sleep(ms);
  else net::sleep_unless_stopped(ms, options_.http.stop);  // a stop request ends the wait; the next GET says "stopped"
}

Result<net::HttpResponse> BinanceRestClient::get(const std::string& path_and_query) {
  const std::string url = options_.base_url + path_and_query;
  int64_t backoff = options_.backoff_initial_ms;
  Error last = make_error("GET " + url + ": not attempted", true);
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    if (used_weight_ >= options_.weight_budget) {
      // Over budget: wait for the 1-minute window to roll over (plus a margin
      // for clock skew), then the counter starts again.
      const int64_t now = now_ms();
      const int64_t until_next_minute = kMinuteMs - now % kMinuteMs + 1000;
      logger("sources.market")->info("rest weight budget reached used={} budget={} wait_ms={}", used_weight_,
                                     options_.weight_budget, until_next_minute);
      ++throttle_waits_;
      wait(until_next_minute);
      used_weight_ = 0;
    }
    ++requests_;
    auto res = http_.get(url);
    if (!res) {
      if (!res.error().transient) return res.error();
      last = res.error();
      wait(backoff);
      backoff *= 2;
      continue;
    }
    const std::string weight = res->header("X-MBX-USED-WEIGHT-1M");
    if (!weight.empty()) {
      int w = 0;
      auto [p, ec] = std::from_chars(weight.data(), weight.data() + weight.size(), w);
      if (ec == std::errc()) used_weight_ = w;
    }
    const unsigned status = res->status;
    if (status == 200) return res;
    const std::string what = "GET " + url + ": HTTP " + std::to_string(status) + ": " + binance_message(res->body);
    if (status == 429 || status == 418) {
      int64_t retry_after = parse_retry_after_ms(res->header("Retry-After"));
      if (retry_after < 0) retry_after = backoff;
      if (retry_after > options_.max_retry_after_ms) {
        return make_error(what + " (Retry-After " + std::to_string(retry_after / 1000) + " s)", true);
      }
      logger("sources.market")->warn("rest rate limited status={} retry_after_ms={} url={}", status, retry_after, url);
      ++throttle_waits_;
      wait(retry_after);
      last = make_error(what, true);
      continue;
    }
    if (status >= 500) {
      last = make_error(what, true);
      wait(backoff);
      backoff *= 2;
      continue;
    }
    return make_error(what, false);
  }
  return last;
}

Result<int64_t> BinanceRestClient::server_time() {
  const char* path = options_.market == BinanceMarket::kFutures ? "/fapi/v1/time" : "/api/v3/time";
  auto res = get(path);
  if (!res) return res.error();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t t = 0;
  if (parser.parse(res->body).get(doc) || doc["serverTime"].get_int64().get(t)) {
    return make_error(options_.base_url + path + ": bad server time answer '" + res->body.substr(0, 100) + "'");
  }
  ++time_reads_;
  last_server_time_ = t;
  last_read_steady_ = steady_now();
  return t;
}

Result<std::vector<Bar>> BinanceRestClient::parse_klines(std::string_view json, const std::string& place) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array rows;
  if (parser.parse(json.data(), json.size()).get(doc) || doc.get_array().get(rows)) {
    return make_error(place + ": klines answer is not a JSON array");
  }
  std::vector<Bar> out;
  size_t index = 0;
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array a;
    if (row.get_array().get(a) || a.size() < 11) {
      return make_error(place + ": kline " + std::to_string(index) + ": expected an array of 12 fields");
    }
    Bar b;
    b.origin = BarOrigin::kRest;
    int64_t close_time = 0, trades = 0;
    bool ok = dom_int(a.at(0).value_unsafe(), b.ts) && dom_double(a.at(1).value_unsafe(), b.open) &&
              dom_double(a.at(2).value_unsafe(), b.high) && dom_double(a.at(3).value_unsafe(), b.low) &&
              dom_double(a.at(4).value_unsafe(), b.close) && dom_double(a.at(5).value_unsafe(), b.volume) &&
              dom_int(a.at(6).value_unsafe(), close_time) && dom_double(a.at(7).value_unsafe(), b.quote_volume) &&
              dom_int(a.at(8).value_unsafe(), trades) && dom_double(a.at(9).value_unsafe(), b.taker_buy_volume) &&
              dom_double(a.at(10).value_unsafe(), b.taker_buy_quote_volume);
    if (!ok) return make_error(place + ": kline " + std::to_string(index) + ": bad number");
    b.trades = static_cast<double>(trades);
    if (close_time < b.ts) return make_error(place + ": kline " + std::to_string(index) + ": close time before open time");
    out.push_back(b);
    ++index;
  }
  return out;
}

int64_t BinanceRestClient::steady_now() const {
  if (options_.steady_ms) return options_.steady_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<int64_t> BinanceRestClient::server_time_floor(bool fresh) {
  // A minute keeps the rate allowance under 60 ms, and costs one request a minute at most.
  constexpr int64_t kMaxAgeMs = 60'000;
  int64_t age = steady_now() - last_read_steady_;
  if (fresh || last_server_time_ == 0 || age < 0 || age > kMaxAgeMs) {
    auto t = server_time();
    if (!t) return t.error();
    age = 0;
  }
  return last_server_time_ + age - age / 1000 - 1;
}

Result<std::vector<Bar>> BinanceRestClient::klines(const std::string& symbol, int64_t interval_ms, int64_t from,
                                                   int64_t to) {
  std::vector<Bar> out;
  if (from >= to) return out;
  // Taken before the request: a bar whose close time is after it may have been
  // open when fetched. When the whole range closed before the floor of an earlier
  // reading, that reading serves (one server time read for the calls of a minute:
  // a history load or backfill of 200 symbols was 400 requests, now 201); else the
  // server time is read afresh first, as every call did before.
  const int64_t reads_before = time_reads_;
  auto floor = server_time_floor(false);
  if (!floor) return floor.error();
  const bool read_just_now = time_reads_ != reads_before;
  const int64_t last_open = bucket_start(to - 1, interval_ms);  // the range's last bar
  if (!read_just_now && last_open > *floor - (interval_ms - 1)) floor = server_time_floor(true);
  if (!floor) return floor.error();
  const int64_t server_floor = *floor;
  const bool futures = options_.market == BinanceMarket::kFutures;
  const int limit = futures ? 1500 : 1000;
  const char* path = futures ? "/fapi/v1/klines" : "/api/v3/klines";
  const std::string interval = interval_name(interval_ms);
  int64_t cursor = bucket_start(from, interval_ms);
  if (cursor < from) cursor += interval_ms;
  while (cursor < to) {
    // Ask for no more rows than the range holds: Binance weighs a klines request by
    // its `limit` (futures 1 / 2 / 5 / 10 for <100 / <500 / <=1000 / >1000), so a
    // one-bar backfill with limit=1500 would cost 10 instead of 1.
    const int64_t span = to - cursor;
    const int64_t wanted = span / interval_ms + (span % interval_ms != 0 ? 1 : 0);
    const int page_limit = static_cast<int>(std::min<int64_t>(limit, wanted));
    const std::string query = std::string(path) + "?symbol=" + net::url_encode(symbol) + "&interval=" + interval +
                              "&startTime=" + std::to_string(cursor) + "&endTime=" + std::to_string(to - 1) +
                              "&limit=" + std::to_string(page_limit);
    auto res = get(query);
    if (!res) return res.error();
    auto page = parse_klines(res->body, options_.base_url + query);
    if (!page) return page.error();
    int64_t last_ts = cursor - interval_ms;
    for (const Bar& b : *page) {
      if (b.ts <= last_ts) continue;  // out of order or repeated: keep the series strictly increasing
      last_ts = b.ts;
      if (b.ts < from || b.ts >= to) continue;
      if (b.ts + interval_ms - 1 > server_floor) break;  // may have been open when the page was asked
      out.push_back(b);
    }
    if (static_cast<int>(page->size()) < page_limit || last_ts < cursor) break;
    cursor = last_ts + interval_ms;
  }
  return out;
}

}  // namespace af::binance
