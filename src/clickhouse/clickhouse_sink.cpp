#include "clickhouse/clickhouse_sink.hpp"
#include "sinks/sink_descriptor.hpp"

#include <set>

#include "common/log.hpp"
#include "common/number_format.hpp"
#include "net/http_url.hpp"
#include "sinks/prediction_json.hpp"
#include "sinks/text_format.hpp"

namespace af::clickhouse {
namespace {

// The columns this sink writes, in the order of CREATE TABLE.
constexpr const char* kColumns[] = {"dag_name", "symbol",     "ts",    "ts_time", "prediction",
                                    "frame",    "column",     "emitted_at", "origin"};

// "YYYY-MM-DD hh:mm:ss" (UTC) for the DateTime('UTC') column.
void append_datetime(std::string& out, int64_t ms) { (void)sinks::append_date_time(out, ms, ' '); }

}  // namespace

ClickHouseSink::ClickHouseSink(std::string name, ClickHouseConfig config)
    : name_(std::move(name)), config_(std::move(config)) {}

ClickHouseSink::~ClickHouseSink() = default;

Error ClickHouseSink::error(const std::string& what, bool transient) const {
  return make_error(name_ + " (" + config_.url + ", table " + qualified_table() + "): " + what, transient);
}

std::string ClickHouseSink::qualified_table() const {
  return clickhouse_quote_ident(config_.database) + "." + clickhouse_quote_ident(config_.table_name);
}

Result<std::string> ClickHouseSink::query(const std::string& sql, const std::string& body) {
  auto res = client_->execute(sql, body);
  if (!res) return error(res.error().message, res.error().transient);
  return res;
}

Status ClickHouseSink::open() {
  auto url = net::parse_http_url(config_.url);
  if (!url) return error(url.error().message, false);
  if (config_.table_name.empty()) return error("table_name is empty", false);
  ClickHouseClientOptions o;
  o.user = config_.user;
  o.password = config_.password;
  o.connect_timeout_ms = config_.timeout_ms;
  o.io_timeout_ms = config_.timeout_ms;
  o.ca_file = config_.ca_file;
  o.user_agent = "alpha_forge-sinks";
  o.body_limit = 64 * 1024 * 1024;  // answers to DDL, INSERT and the column list are short
  client_ = std::make_unique<ClickHouseClient>(std::move(*url), std::move(o));
  if (Status tls = client_->prepare_tls(); !tls) return error(tls.error().message, false);
  Status st = ensure_table();
  if (!st && st.error().transient) {
    // Down at start-up: the worker retries writes (and spools), and the table is
    // checked again before the first one.
    logger("sinks")->warn("sink={} ClickHouse not reachable at start-up, will retry: {}", name_,
                          st.error().message);
    return {};
  }
  return st;
}

Status ClickHouseSink::ensure_table() {
  if (config_.create_table) {
    const std::string ddl = "CREATE TABLE IF NOT EXISTS " + qualified_table() +
                            " (dag_name String, symbol String, ts UInt64, ts_time DateTime('UTC'), "
                            "prediction Float64, frame String, `column` String, emitted_at UInt64, origin String) "
                            "ENGINE = ReplacingMergeTree ORDER BY (dag_name, symbol, ts)";
    auto r = query(ddl);
    if (!r) return r.error();
  }
  auto cols = query("SELECT name FROM system.columns WHERE database = " + clickhouse_quote_string(config_.database) +
                    " AND table = " + clickhouse_quote_string(config_.table_name) + " FORMAT TabSeparated");
  if (!cols) return cols.error();
  std::set<std::string> have;
  size_t start = 0;
  const std::string& text = *cols;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    have.insert(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (have.empty())
    return error("table does not exist (create it, or set create_table: true)", false);
  std::string missing;
  for (const char* c : kColumns)
    if (!have.count(c)) missing += std::string(missing.empty() ? "" : ", ") + c;
  if (!missing.empty()) return error("table lacks column(s) " + missing, false);
  ready_ = true;
  return {};
}

Status ClickHouseSink::write(std::span<const PredictionRecord> batch) {
  if (!client_) return error("write before open", false);
  if (batch.empty()) return {};
  if (!ready_) {
    if (Status st = ensure_table(); !st) return st;
  }
  body_.clear();
  for (const auto& r : batch) {
    body_ += '{';
    sinks::append_prediction_json_fields(body_, r, sinks::JsonTimes::kClampNegative);  // ts, emitted_at: UInt64
    body_ += ",\"ts_time\":\"";
    append_datetime(body_, r.ts);
    body_ += "\"}\n";
  }
  auto r = query("INSERT INTO " + qualified_table() + " FORMAT JSONEachRow", body_);
  if (!r) return r.error();
  inserted_ += batch.size();
  return {};
}

registry::Descriptor clickhouse_descriptor() {
  using registry::ParamSpec;
  using registry::ParamType;
  registry::Descriptor d = sinks::sink_descriptor();
  d.name = "sinks.clickhouse";
  d.summary = "Insert predictions into a ClickHouse table over HTTP (ReplacingMergeTree, idempotent re-sends)";
  d.doc =
      "One `INSERT INTO db.table FORMAT JSONEachRow` per batch over ClickHouse's HTTP interface. Columns: "
      "`dag_name String, symbol String, ts UInt64` (bar open time, ms), `ts_time DateTime('UTC')`, "
      "`prediction Float64, frame String, column String, emitted_at UInt64, origin String`. With create_table "
      "the table is created as `ReplacingMergeTree ORDER BY (dag_name, symbol, ts)`, so a record sent twice "
      "(retry, spool replay) is one row after merges; count with `SELECT count() FROM t FINAL`. Works with "
      "ClickHouse 18.16 (Debian 12) and current versions. user and password default to the environment "
      "variables CLICKHOUSE_USER and CLICKHOUSE_PASSWORD. A server that is down at start-up is retried; a "
      "missing table without create_table, a missing column or bad credentials stop the sink at start-up.";
  d.params.push_back(ParamSpec{"url", ParamType::kString, false, std::string("http://127.0.0.1:8123"), {}, {}, {},
                               "HTTP interface, http:// or https:// (certificate verified)"});
  d.params.push_back(ParamSpec{"database", ParamType::kString, false, std::string("default"), {}, {}, {},
                               "database of the table"});
  d.params.push_back(ParamSpec{"table_name", ParamType::kString, true, {}, {}, {}, {}, "the table"});
  d.params.push_back(ParamSpec{"user", ParamType::kString, false, {}, {}, {}, {},
                               "user name; default: $CLICKHOUSE_USER, else the server's default user"});
  ParamSpec password{"password", ParamType::kString, false, {}, {}, {}, {},
                     "password; default: $CLICKHOUSE_PASSWORD (prefer the environment)"};
  password.secret = true;
  d.params.push_back(std::move(password));
  d.params.push_back(ParamSpec{"create_table", ParamType::kBool, false, false, {}, {}, {},
                               "create the table if it does not exist"});
  d.check = [](const registry::Params& p) {
    std::vector<std::string> problems;
    if (p.has("url")) {
      auto u = net::parse_http_url(p.get_string("url"));
      if (!u) problems.push_back("url: " + u.error().message);
    }
    if (p.has("table_name") && p.get_string("table_name").empty()) problems.push_back("table_name: empty");
    return problems;
  };
  return d;
}

void register_clickhouse(SinkRegistry& registry) {
  registry.add(clickhouse_descriptor(), [](const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    ClickHouseConfig c;
    const auto& p = ctx.params;
    if (p.has("url")) c.url = p.get_string("url");
    if (p.has("database")) c.database = p.get_string("database");
    c.table_name = p.get_string("table_name");
    c.user = p.has("user") ? p.get_string("user") : env_or("CLICKHOUSE_USER", "");
    c.password = p.has("password") ? p.get_string("password") : env_or("CLICKHOUSE_PASSWORD", "");
    if (p.has("create_table")) c.create_table = p.get_bool("create_table");
    c.ca_file = ctx.ca_file;
    return std::unique_ptr<Sink>(std::make_unique<ClickHouseSink>(ctx.name, std::move(c)));
  });
}

}  // namespace af::clickhouse
