#pragma once
// ClickHouseClient: ClickHouse's HTTP interface for both ClickHouse plugins (the
// sinks.clickhouse sink and the data.clickhouse_poll table reader): a statement
// in the `query` parameter, credentials in X-ClickHouse-User/Key headers, the
// connection kept alive between statements (net::HttpClient), and the server's
// answer classified: a 200 is the body; anything else an error that is fatal
// when the server's error code says the statement or the setup is wrong, else
// transient for 5xx, 429 and 408. Only what ClickHouse 18.16 (Debian 12) and
// current versions share is used.
// Owned by one caller thread (a sink worker, the replay driver, a feed's worker).

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "net/http_client.hpp"
#include "net/http_url.hpp"

namespace af::clickhouse {

struct ClickHouseClientOptions {
  std::string user;  // "" : the server's default user
  std::string password;
  int64_t connect_timeout_ms = 10'000;  // each of resolve, connect, TLS handshake
  int64_t io_timeout_ms = 10'000;       // each of writing the statement, reading the answer
  std::string ca_file;                  // for https ("" = $SSL_CERT_FILE, else the system CAs)
  std::string user_agent = "alpha_forge";
  uint64_t body_limit = 1ULL << 30;  // the largest answer read
  std::stop_token stop;              // ends a statement in flight (net::HttpClientOptions::stop)
};

class ClickHouseClient {
 public:
  // `url`: the HTTP interface, http(s)://host:port[/prefix] (already parsed).
  ClickHouseClient(net::Url url, ClickHouseClientOptions options);

  // Loads the CA set of an https URL now (a CA file that does not load is an
  // error at start-up, not at the first statement). A no-op for http.
  Status prepare_tls();

  // A statement that only reads, sent as GET (the server runs it read-only).
  // Returns the answer's body.
  Result<std::string> query(const std::string& sql);
  // A statement that may write (DDL, INSERT ... FORMAT with its rows in
  // `body`), sent as POST. Returns the answer's body.
  Result<std::string> execute(const std::string& sql, const std::string& body = {});

  // Errors of both: the network step and reason ("connect: Connection refused",
  // "TLS handshake failed: certificate verify failed (hostname mismatch)"), or
  // "HTTP <status>: <first line of the server's message>". The URL and the
  // statement are left out (the statement can be long); callers name the server
  // and the table.

 private:
  Result<std::string> send(std::string_view method, const std::string& sql, const std::string& body);

  net::Url url_;
  std::string base_path_;  // the URL's path prefix, "" or "/prefix"
  net::HttpClient http_;
};

// The error code in a ClickHouse error answer ("Code: 60, e.displayText() = ...",
// "Code: 60. DB::Exception: ..."); -1 when absent or not a number the server
// could mean (the body is the server's text: parsed with a range check).
int clickhouse_error_code(std::string_view body);
// True for the codes a retry cannot fix: the statement or the setup is wrong.
bool clickhouse_fatal_code(int code);
// The first line of a server message, cut at 300 characters.
std::string first_line(std::string_view text);

// SQL quoting: `name` and 'text', backslash-escaped.
std::string clickhouse_quote_ident(const std::string& s);
std::string clickhouse_quote_string(const std::string& s);

// The value of environment variable `name`, `fallback` when unset (the
// CLICKHOUSE_USER / CLICKHOUSE_PASSWORD defaults of both plugins).
std::string env_or(const char* name, const std::string& fallback);

}  // namespace af::clickhouse
