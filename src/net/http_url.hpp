#pragma once
// Url: the one parsed form of an http(s):// or ws(s):// URL, for every outgoing
// connection (the HTTP client, the Binance WebSocket client, the database sinks'
// endpoints). Parsed once where a URL enters (a parameter, an option); requests
// then copy it and set the target. Pure value type, any thread.

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace af::net {

struct Url {
  std::string scheme;  // "http", "https", "ws", "wss"
  std::string host;    // "fapi.binance.com", "127.0.0.1", "::1" (no brackets)
  std::string port;    // explicit or the scheme's default
  std::string target;  // path and query, at least "/"
  bool tls() const { return scheme == "https" || scheme == "wss"; }
  std::string text() const;  // "https://host:port/target"
  // The Host header: "host" on the scheme's default port, else "host:port"; an
  // IPv6 address in brackets.
  std::string host_header() const;
  // The target's path as a prefix to append request paths to: "" for "/",
  // "/prefix" for "/prefix/" (a base URL such as http://proxy/clickhouse/).
  std::string base_path() const;
};

// Parses "scheme://host[:port][/path][?query]" with scheme http, https, ws or wss.
// Credentials in the URL (user:pw@host) are refused: they would end up in every
// error message that quotes the URL; the clients take them as headers. Errors
// name the URL: "bad URL 'x': <why>".
Result<Url> parse_url(std::string_view text);

// parse_url restricted to http:// and https:// (what an HTTP endpoint parameter
// accepts).
Result<Url> parse_http_url(std::string_view text);

// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view value);

}  // namespace af::net
