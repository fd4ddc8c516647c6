#pragma once
// BinanceRestClient: closed klines and server time over Binance's REST API
// (`/fapi/v1/...` for USD-M futures, `/api/v3/...` for spot), paginated, within the
// request-weight budget (`X-MBX-USED-WEIGHT-1M`), honouring 429/418 `Retry-After`.
// Owned by one worker thread (the live feed's fetch thread, or a tool); blocking;
// not thread-safe.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "net/http_client.hpp"

namespace af::binance {

enum class BinanceMarket : uint8_t { kFutures, kSpot };

const char* binance_market_name(BinanceMarket m);  // "futures", "spot"

struct BinanceRestOptions {
  std::string base_url = "https://fapi.binance.com";  // spot: https://api.binance.com
  BinanceMarket market = BinanceMarket::kFutures;
  int weight_budget = 1000;        // keep the 1-minute used weight under this (limits: 2400 futures, 6000 spot)
  int max_attempts = 5;            // per request, for transient failures and 429/418
  int64_t max_retry_after_ms = 300'000;  // a longer ban is returned as an error instead of waited out
  int64_t backoff_initial_ms = 500;
  net::HttpClientOptions http;
  // How the client waits (tests pass a fake); default: a wait that http.stop ends.
  std::function<void(int64_t ms)> sleep;
  // A monotonic clock in ms (tests pass a fake); default: std::chrono::steady_clock.
  std::function<int64_t()> steady_ms;
};

class BinanceRestClient {
 public:
  explicit BinanceRestClient(BinanceRestOptions options);

  // Exchange time in ms (`/fapi/v1/time`, `/api/v3/time`), read now; klines()
  // also uses the reading.
  Result<int64_t> server_time();

  // Closed bars of `symbol` with ts in [from, to), sorted, origin kRest. Pages of
  // 1500 (futures) or 1000 (spot); the bar still open at the exchange is never
  // returned: a bar counts as closed when its close time is not after a lower bound
  // of the exchange's time taken before the request (server_time_floor: an earlier
  // reading when the whole range closed before it, else a fresh one).
  // 4xx other than 429/418 is a fatal error naming the URL and Binance's `msg`;
  // 5xx and network failures are retried, then returned as transient errors.
  Result<std::vector<Bar>> klines(const std::string& symbol, int64_t interval_ms, int64_t from, int64_t to);

  // The last `X-MBX-USED-WEIGHT-1M` seen (0 before any request).
  int used_weight() const { return used_weight_; }
  // Server time answers read (by server_time() and by klines()).
  int64_t time_reads() const { return time_reads_; }
  // Requests sent, and waits forced by the budget or by 429/418.
  int64_t requests() const { return requests_; }
  int64_t throttle_waits() const { return throttle_waits_; }

  // Parses a klines JSON array (`[[t,"o","h","l","c","v",T,"q",n,"V","Q","0"],...]`).
  // `place` names the source in errors.
  static Result<std::vector<Bar>> parse_klines(std::string_view json, const std::string& place);

 private:
  Result<net::HttpResponse> get(const std::string& path_and_query);
  void wait(int64_t ms);
  int64_t steady_now() const;
  // A time the exchange's clock has surely passed: the last server time read
  // plus the monotonic time since its answer arrived, less 0.1% of that for the
  // two clocks' rates (NTP slews each by at most 500 ppm). Read afresh when there
  // is none, when `fresh`, or when the last is over a minute old.
  Result<int64_t> server_time_floor(bool fresh);

  BinanceRestOptions options_;
  net::HttpClient http_;
  int used_weight_ = 0;
  int64_t requests_ = 0;
  int64_t throttle_waits_ = 0;
  int64_t time_reads_ = 0;
  int64_t last_server_time_ = 0;  // 0: none read yet
  int64_t last_read_steady_ = 0;  // steady_now() when that answer had arrived
};

}  // namespace af::binance
