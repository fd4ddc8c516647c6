#include "clickhouse/clickhouse_bar_table.hpp"

#include <charconv>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "clickhouse/clickhouse_client.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "net/http_url.hpp"

namespace af::clickhouse {
namespace {

// The text of a TabSeparated field as a number; \N (NULL) and garbage are NaN.
double parse_number(std::string_view f) {
  double v = std::numeric_limits<double>::quiet_NaN();
  if (!f.empty() && f.front() == '+') f.remove_prefix(1);
  const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
  if (r.ec != std::errc() || r.ptr != f.data() + f.size()) return std::numeric_limits<double>::quiet_NaN();
  return v;
}

bool parse_int(std::string_view f, int64_t& out) {
  const auto r = std::from_chars(f.data(), f.data() + f.size(), out);
  return r.ec == std::errc() && r.ptr == f.data() + f.size();
}

// TabSeparated unescaping of a String field (symbols rarely need it).
std::string unescape(std::string_view f) {
  std::string out;
  out.reserve(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out += f[i];
      continue;
    }
    const char c = f[++i];
    switch (c) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

ClickHouseBarTableConfig clickhouse_bar_table_config(const registry::Params& p) {
  ClickHouseBarTableConfig c;
  if (p.has("url")) c.url = p.get_string("url");
  if (p.has("database")) c.database = p.get_string("database");
  if (p.has("table_name")) c.table_name = p.get_string("table_name");
  c.user = p.has("user") ? p.get_string("user") : env_or("CLICKHOUSE_USER", "");
  c.password = p.has("password") ? p.get_string("password") : env_or("CLICKHOUSE_PASSWORD", "");
  auto& m = c.columns;
  auto set = [&](const char* param, std::string& field, bool* is_explicit = nullptr) {
    if (!p.has(param)) return;
    field = p.get_string(param);
    if (is_explicit) *is_explicit = true;
  };
  set("ts_column", m.ts);
  set("symbol_column", m.symbol);
  set("open_column", m.open);
  set("high_column", m.high);
  set("low_column", m.low);
  set("close_column", m.close);
  set("volume_column", m.volume);
  set("quote_volume_column", m.quote_volume, &m.quote_volume_explicit);
  set("trades_column", m.trades, &m.trades_explicit);
  set("taker_buy_volume_column", m.taker_buy_volume, &m.taker_buy_volume_explicit);
  set("taker_buy_quote_volume_column", m.taker_buy_quote_volume, &m.taker_buy_quote_volume_explicit);
  return c;
}

ClickHouseBarTable::ClickHouseBarTable(ClickHouseBarTableConfig config) : config_(std::move(config)) {}

ClickHouseBarTable::~ClickHouseBarTable() = default;

Error ClickHouseBarTable::error(const std::string& what, bool transient) const {
  return make_error(config_.name + " (" + config_.url + ", table " + config_.database + "." + config_.table_name +
                        "): " + what,
                    transient);
}

Result<std::string> ClickHouseBarTable::query(const std::string& sql) {
  auto res = client_->query(sql);
  if (!res) return error(res.error().message, res.error().transient);
  return res;
}

Status ClickHouseBarTable::check() {
  if (checked_) return {};
  auto parsed = net::parse_url(config_.url);
  if (!parsed) return error(parsed.error().message, false);
  if (parsed->scheme != "http" && parsed->scheme != "https") return error("url must be http:// or https://", false);
  if (config_.table_name.empty()) return error("table_name is empty", false);
  if (!client_) {
    ClickHouseClientOptions o;
    o.user = config_.user;
    o.password = config_.password;
    o.connect_timeout_ms = std::min<int64_t>(config_.timeout_ms, 10'000);
    o.io_timeout_ms = config_.timeout_ms;
    o.stop = config_.stop;
    client_ = std::make_unique<ClickHouseClient>(std::move(*parsed), std::move(o));
  }
  auto cols = query("SELECT name, type FROM system.columns WHERE database = " +
                    clickhouse_quote_string(config_.database) + " AND table = " +
                    clickhouse_quote_string(config_.table_name) + " FORMAT TabSeparated");
  if (!cols) return cols.error();
  std::map<std::string, std::string> types;
  size_t start = 0;
  const std::string& text = *cols;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + start, nl - start);
    const size_t tab = line.find('\t');
    if (tab != std::string_view::npos) types[unescape(line.substr(0, tab))] = unescape(line.substr(tab + 1));
    start = nl + 1;
  }
  if (types.empty()) return error("table does not exist", false);

  const auto& m = config_.columns;
  std::string missing;
  auto need = [&](const std::string& col, const char* param) {
    if (col.empty() || !types.count(col))
      missing += (missing.empty() ? "" : ", ") + (col.empty() ? std::string("(empty)") : col) + " (" + param + ")";
  };
  need(m.ts, "ts_column");
  need(m.symbol, "symbol_column");
  need(m.open, "open_column");
  need(m.high, "high_column");
  need(m.low, "low_column");
  need(m.close, "close_column");
  need(m.volume, "volume_column");
  select_columns_ = {m.open, m.high, m.low, m.close, m.volume};
  auto optional = [&](const std::string& col, bool is_explicit, const char* param) {
    if (col.empty()) {
      select_columns_.emplace_back();
    } else if (types.count(col)) {
      select_columns_.push_back(col);
    } else if (is_explicit) {
      missing += (missing.empty() ? "" : ", ") + col + " (" + param + ")";
    } else {
      logger("sources.clickhouse")->info("{}: table {}.{} has no column {}: that field is NaN", config_.name,
                                         config_.database, config_.table_name, col);
      select_columns_.emplace_back();
    }
  };
  optional(m.quote_volume, m.quote_volume_explicit, "quote_volume_column");
  optional(m.trades, m.trades_explicit, "trades_column");
  optional(m.taker_buy_volume, m.taker_buy_volume_explicit, "taker_buy_volume_column");
  optional(m.taker_buy_quote_volume, m.taker_buy_quote_volume_explicit, "taker_buy_quote_volume_column");
  if (!missing.empty()) return error("table lacks column(s) " + missing, false);

  std::string ts_type = types[m.ts];
  if (ts_type.rfind("DateTime64", 0) == 0) {
    ts_kind_ = TsKind::kDateTime64;
  } else if (ts_type.rfind("DateTime", 0) == 0) {
    ts_kind_ = TsKind::kSeconds;
  } else if (ts_type.rfind("UInt", 0) == 0 || ts_type.rfind("Int", 0) == 0) {
    ts_kind_ = TsKind::kMillis;
  } else {
    return error("ts column " + m.ts + " has type " + ts_type +
                     "; expected milliseconds as an integer, DateTime or DateTime64",
                 false);
  }

  auto engine = query("SELECT engine FROM system.tables WHERE database = " +
                      clickhouse_quote_string(config_.database) + " AND name = " +
                      clickhouse_quote_string(config_.table_name) + " FORMAT TabSeparated");
  if (!engine) return engine.error();
  // These engines may hold several versions of a row until a merge; FINAL reads
  // the merged result. A plain MergeTree rejects FINAL: duplicates there are
  // collapsed below.
  use_final_ = engine->find("ReplacingMergeTree") != std::string::npos ||
               engine->find("CollapsingMergeTree") != std::string::npos;
  checked_ = true;
  return {};
}

std::string ClickHouseBarTable::ts_select() const {
  const std::string c = clickhouse_quote_ident(config_.columns.ts);
  switch (ts_kind_) {
    case TsKind::kSeconds: return "toUInt64(" + c + ")";
    case TsKind::kDateTime64: return "toUnixTimestamp64Milli(" + c + ")";
    case TsKind::kMillis: break;
  }
  return c;
}

std::string ClickHouseBarTable::ts_bound(int64_t ms) const {
  ms = std::max<int64_t>(ms, 0);
  switch (ts_kind_) {
    case TsKind::kSeconds: {
      // ts_s * 1000 >= ms  <=>  ts_s >= ceil(ms / 1000); likewise for <.
      const int64_t s = ms / 1000 + (ms % 1000 != 0 ? 1 : 0);
      return "toDateTime(" + std::to_string(s) + ")";
    }
    case TsKind::kDateTime64: return "fromUnixTimestamp64Milli(toInt64(" + std::to_string(ms) + "))";
    case TsKind::kMillis: break;
  }
  return std::to_string(ms);
}

Result<std::vector<std::vector<Bar>>> ClickHouseBarTable::read(const std::vector<BarRange>& ranges,
                                                               BarOrigin origin) {
  std::vector<std::vector<Bar>> out(ranges.size());
  if (ranges.empty()) return out;
  if (Status st = check(); !st) return st.error();
  const auto& m = config_.columns;
  const std::string ts_col = clickhouse_quote_ident(m.ts);
  const std::string sym_col = clickhouse_quote_ident(m.symbol);
  // The DateTime column cannot hold anything past 2106: no upper bound then.
  const int64_t no_bound = ts_kind_ == TsKind::kMillis ? std::numeric_limits<int64_t>::max() : 4'000'000'000'000LL;

  // Symbols that share a range share one condition, so the query stays short.
  std::map<std::pair<int64_t, int64_t>, std::vector<size_t>> groups;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < ranges.size(); ++i) {
    groups[{ranges[i].from, ranges[i].to}].push_back(i);
    index.emplace(ranges[i].symbol, i);
  }
  std::string where;
  for (const auto& [range, members] : groups) {
    if (range.second <= range.first) continue;
    std::string in;
    for (size_t i : members) in += (in.empty() ? "" : ", ") + clickhouse_quote_string(ranges[i].symbol);
    std::string cond = "(" + sym_col + " IN (" + in + ") AND " + ts_col + " >= " + ts_bound(range.first);
    if (range.second < no_bound) cond += " AND " + ts_col + " < " + ts_bound(range.second);
    cond += ")";
    where += (where.empty() ? "" : " OR ") + cond;
  }
  if (where.empty()) return out;
  std::string sql = "SELECT " + sym_col + ", " + ts_select();
  for (const auto& c : select_columns_) sql += ", " + (c.empty() ? std::string("NULL") : clickhouse_quote_ident(c));
  sql += " FROM " + clickhouse_quote_ident(config_.database) + "." + clickhouse_quote_ident(config_.table_name);
  if (use_final_) sql += " FINAL";
  sql += " WHERE " + where + " ORDER BY " + sym_col + ", " + ts_col + " FORMAT TabSeparated";
  auto body = query(sql);
  if (!body) return body.error();

  static RateLimiter limiter(10, 60'000);
  const std::string& text = *body;
  size_t start = 0;
  std::vector<std::string_view> fields;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    fields.clear();
    size_t f = 0;
    while (true) {
      const size_t tab = line.find('\t', f);
      fields.push_back(line.substr(f, tab == std::string_view::npos ? std::string_view::npos : tab - f));
      if (tab == std::string_view::npos) break;
      f = tab + 1;
    }
    if (fields.size() != 2 + select_columns_.size())
      return error("unexpected row with " + std::to_string(fields.size()) + " fields: " + first_line(line),
                   false);
    ++stats_.rows;
    auto it = index.find(unescape(fields[0]));
    if (it == index.end()) continue;
    Bar b;
    if (!parse_int(fields[1], b.ts)) return error("bad ts value '" + std::string(fields[1]) + "'", false);
    if (ts_kind_ == TsKind::kSeconds) b.ts *= 1000;
    double* targets[] = {&b.open,   &b.high,         &b.low,    &b.close,           &b.volume,
                         &b.quote_volume, &b.trades, &b.taker_buy_volume, &b.taker_buy_quote_volume};
    for (size_t k = 0; k < select_columns_.size(); ++k) *targets[k] = parse_number(fields[2 + k]);
    b.origin = origin;
    const BarRange& r = ranges[it->second];
    if (b.ts < r.from || b.ts >= r.to) continue;  // DateTime rounding at the edges
    auto& bars = out[it->second];
    if (!bars.empty() && bars.back().ts == b.ts) {
      if (bars.back().same_values(b)) {
        ++stats_.duplicates;
      } else {
        ++stats_.revisions;
        uint64_t suppressed = 0;
        if (limiter.allow(suppressed)) {
          logger("sources.clickhouse")
              ->warn("{}: two versions of symbol={} ts={}: keeping the first (suppressed={})", config_.name, r.symbol,
                     format_iso8601(b.ts), suppressed);
        }
      }
      continue;
    }
    bars.push_back(b);
  }
  return out;
}

Result<std::optional<int64_t>> ClickHouseBarTable::earliest(const std::string& symbol) {
  if (Status st = check(); !st) return st.error();
  auto body = query("SELECT count(), min(" + ts_select() + ") FROM " + clickhouse_quote_ident(config_.database) +
                    "." + clickhouse_quote_ident(config_.table_name) + " WHERE " +
                    clickhouse_quote_ident(config_.columns.symbol) + " = " + clickhouse_quote_string(symbol) +
                    " FORMAT TabSeparated");
  if (!body) return body.error();
  std::string_view t = *body;
  while (!t.empty() && t.back() == '\n') t.remove_suffix(1);
  const size_t tab = t.find('\t');
  int64_t count = 0, first = 0;
  if (tab == std::string_view::npos || !parse_int(t.substr(0, tab), count) || !parse_int(t.substr(tab + 1), first))
    return error("unexpected answer to min(ts): " + std::string(t), false);
  if (count == 0) return std::optional<int64_t>();
  if (ts_kind_ == TsKind::kSeconds) first *= 1000;
  return std::optional<int64_t>(first);
}

}  // namespace af::clickhouse
