#include "clickhouse/clickhouse_client.hpp"

#include <cstdlib>

#include "common/number_parse.hpp"

namespace af::clickhouse {
namespace {

net::HttpClientOptions http_options(const ClickHouseClientOptions& o) {
  net::HttpClientOptions h;
  h.connect_timeout_ms = o.connect_timeout_ms;
  h.io_timeout_ms = o.io_timeout_ms;
  h.ca_file = o.ca_file;
  h.user_agent = o.user_agent;
  h.body_limit = o.body_limit;
  if (!o.user.empty()) h.headers.emplace_back("X-ClickHouse-User", o.user);
  if (!o.password.empty()) h.headers.emplace_back("X-ClickHouse-Key", o.password);
  h.stop = o.stop;
  return h;
}

}  // namespace

ClickHouseClient::ClickHouseClient(net::Url url, ClickHouseClientOptions options)
    : url_(std::move(url)), base_path_(url_.base_path()), http_(http_options(options)) {}

Status ClickHouseClient::prepare_tls() { return url_.tls() ? http_.prepare_tls() : Status{}; }

Result<std::string> ClickHouseClient::query(const std::string& sql) { return send("GET", sql, {}); }

Result<std::string> ClickHouseClient::execute(const std::string& sql, const std::string& body) {
  return send("POST", sql, body);
}

Result<std::string> ClickHouseClient::send(std::string_view method, const std::string& sql, const std::string& body) {
  net::Url url = url_;
  url.target = base_path_ + "/?query=" + net::url_encode(sql);
  net::HttpHeaders headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/octet-stream");
  auto res = http_.request(method, url, headers, body);
  if (!res) {
    // "<METHOD> <url>: <step>: <reason>": the URL holds the whole statement.
    std::string m = res.error().message;
    const std::string prefix = std::string(method) + " " + url.text() + ": ";
    if (m.rfind(prefix, 0) == 0) m.erase(0, prefix.size());
    return make_error(std::move(m), res.error().transient);
  }
  if (res->status == 200) return std::move(res->body);
  const int code = clickhouse_error_code(res->body);
  const bool transient =
      !clickhouse_fatal_code(code) && (res->status >= 500 || res->status == 429 || res->status == 408);
  return make_error("HTTP " + std::to_string(res->status) + ": " + first_line(res->body), transient);
}

int clickhouse_error_code(std::string_view body) {
  const size_t p = body.find("Code: ");
  if (p == std::string_view::npos) return -1;
  const std::string_view digits = body.substr(p + 6, body.find_first_not_of("0123456789", p + 6) - (p + 6));
  auto code = parse_int_in_range(digits, 0, 1'000'000);
  return code ? static_cast<int>(*code) : -1;
}

bool clickhouse_fatal_code(int code) {
  switch (code) {
    case 16:   // NO_SUCH_COLUMN_IN_TABLE
    case 26:   // CANNOT_PARSE_QUOTED_STRING
    case 27:   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    case 47:   // UNKNOWN_IDENTIFIER
    case 60:   // UNKNOWN_TABLE
    case 62:   // SYNTAX_ERROR
    case 81:   // UNKNOWN_DATABASE
    case 117:  // INCORRECT_DATA
    case 192:  // UNKNOWN_USER
    case 193:  // WRONG_PASSWORD
    case 497:  // ACCESS_DENIED
    case 516:  // AUTHENTICATION_FAILED
      return true;
    default:
      return false;
  }
}

std::string first_line(std::string_view text) {
  std::string line(text.substr(0, text.find('\n')));
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

std::string clickhouse_quote_ident(const std::string& s) {
  std::string out = "`";
  for (char c : s) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out + '`';
}

std::string clickhouse_quote_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + '\'';
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

}  // namespace af::clickhouse
