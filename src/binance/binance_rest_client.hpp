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
};

class BinanceRestClient {
 public:
  explicit BinanceRestClient(BinanceRestOptions options);

  // Exchange time in ms (`/fapi/v1/time`, `/api/v3/time`).
  Result<int64_t> server_time();

  // Closed bars of `symbol` with ts in [from, to), sorted, origin kRest. Pages of
  // 1500 (futures) or 1000 (spot); the bar still open at the exchange (close time
  // after the server time read first) is never returned. 4xx other than 429/418 is
  // a fatal error naming the URL and Binance's `msg`; 5xx and network failures are
  // retried, then returned as transient errors.
  Result<std::vector<Bar>> klines(const std::string& symbol, int64_t interval_ms, int64_t from, int64_t to);

  // The last `X-MBX-USED-WEIGHT-1M` seen (0 before any request).
  int used_weight() const { return used_weight_; }
  // Requests sent, and waits forced by the budget or by 429/418.
  int64_t requests() const { return requests_; }
  int64_t throttle_waits() const { return throttle_waits_; }

  // Parses a klines JSON array (`[[t,"o","h","l","c","v",T,"q",n,"V","Q","0"],...]`).
  // `place` names the source in errors.
  static Result<std::vector<Bar>> parse_klines(std::string_view json, const std::string& place);

 private:
  Result<net::HttpResponse> get(const std::string& path_and_query);
  void wait(int64_t ms);

  BinanceRestOptions options_;
  net::HttpClient http_;
  int used_weight_ = 0;
  int64_t requests_ = 0;
  int64_t throttle_waits_ = 0;
};

}  // namespace af::binance
