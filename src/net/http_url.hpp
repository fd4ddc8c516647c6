#pragma once
// Url: the parts of an http(s):// or ws(s):// URL the Binance clients need. Pure
// value type, any thread.

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace af::net {

struct Url {
  std::string scheme;  // "http", "https", "ws", "wss"
  std::string host;    // "fapi.binance.com", "127.0.0.1"
  std::string port;    // explicit or the scheme's default
  std::string target;  // path and query, at least "/"
  bool tls() const { return scheme == "https" || scheme == "wss"; }
  std::string text() const;  // "https://host:port/target"
};

// Parses "scheme://host[:port][/path][?query]"; errors name the URL.
Result<Url> parse_url(std::string_view text);

// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view value);

}  // namespace af::net
