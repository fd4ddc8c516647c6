#pragma once
// ClickHouseBarTable: reads klines from a ClickHouse table over the HTTP
// interface, for data.clickhouse_poll (the replay DataSource and the live
// ClickHousePollFeed). The column mapping comes from the step's params; the
// table's schema is read once (system.columns, system.tables) to learn how ts is
// stored (ms integer, DateTime, DateTime64) and whether FINAL applies (a
// Replacing/Collapsing MergeTree may hold two versions of a bar until it merges).
// Rows come back sorted per symbol by ts with duplicates collapsed (the first row
// of a ts wins; a differing second version is counted as a revision and logged).
//
// Owned by one caller thread (the replay driver's, or the feed's worker); not
// thread-safe. Only HTTP features that ClickHouse 18.16 (Debian 12) and current
// versions share are used: GET with the query in `query`, X-ClickHouse-User/Key
// headers, TabSeparated output.

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "registry/param.hpp"

namespace af::clickhouse {

class ClickHouseClient;

// Which table column holds each bar field. An optional field whose column is ""
// is not read (its value is NaN).
struct ClickHouseBarColumns {
  std::string ts = "ts";  // bar open time: UInt64/Int64 ms, DateTime (s) or DateTime64
  std::string symbol = "symbol";
  std::string open = "open", high = "high", low = "low", close = "close", volume = "volume";
  std::string quote_volume = "quote_volume", trades = "trades", taker_buy_volume = "taker_buy_volume",
              taker_buy_quote_volume = "taker_buy_quote_volume";
  // The optional columns above that were named explicitly: their absence from the
  // table is an error rather than NaN.
  bool quote_volume_explicit = false, trades_explicit = false, taker_buy_volume_explicit = false,
       taker_buy_quote_volume_explicit = false;
};

struct ClickHouseBarTableConfig {
  std::string url = "http://127.0.0.1:8123";
  std::string database = "default";
  std::string table_name;
  std::string user;      // "" : the server's default user
  std::string password;
  ClickHouseBarColumns columns;
  int64_t timeout_ms = 10'000;
  std::string name = "data.clickhouse_poll";  // for messages (the step's path when known)
  std::stop_token stop;  // a stop request ends a query in flight (net::HttpClientOptions::stop)
};

// The config of a data.clickhouse_poll step from its validated params; user and
// password default to $CLICKHOUSE_USER / $CLICKHOUSE_PASSWORD.
ClickHouseBarTableConfig clickhouse_bar_table_config(const registry::Params& params);

// One symbol's condition of a read: bars with ts in [from, to).
struct BarRange {
  std::string symbol;
  int64_t from = 0;
  int64_t to = 0;  // INT64_MAX: no upper bound
};

struct ClickHouseReadStats {
  uint64_t rows = 0;        // rows the server returned
  uint64_t duplicates = 0;  // identical second rows of a (symbol, ts)
  uint64_t revisions = 0;   // differing second rows (the first one kept)
};

class ClickHouseBarTable {
 public:
  explicit ClickHouseBarTable(ClickHouseBarTableConfig config);
  ~ClickHouseBarTable();
  ClickHouseBarTable(const ClickHouseBarTable&) = delete;
  ClickHouseBarTable& operator=(const ClickHouseBarTable&) = delete;

  const ClickHouseBarTableConfig& config() const { return config_; }

  // Reads the schema if not done yet. Errors: transient when the server cannot be
  // reached, fatal for a missing table, a missing column or an unsupported ts type.
  Status check();

  // Bars of every range, one query; out[i] holds ranges[i]'s bars sorted by ts,
  // deduplicated. Origin: `origin`.
  Result<std::vector<std::vector<Bar>>> read(const std::vector<BarRange>& ranges, BarOrigin origin);

  // The earliest ts of `symbol`, nullopt when the table has none.
  Result<std::optional<int64_t>> earliest(const std::string& symbol);

  const ClickHouseReadStats& stats() const { return stats_; }

 private:
  Result<std::string> query(const std::string& sql);
  Error error(const std::string& what, bool transient) const;
  std::string ts_select() const;
  std::string ts_bound(int64_t ms) const;  // a literal comparable with the ts column

  ClickHouseBarTableConfig config_;
  std::unique_ptr<ClickHouseClient> client_;  // made by the first check(), once the URL parsed
  bool checked_ = false;
  enum class TsKind { kMillis, kSeconds, kDateTime64 } ts_kind_ = TsKind::kMillis;
  bool use_final_ = false;
  std::vector<std::string> select_columns_;  // the optional ones may be "" (not read)
  ClickHouseReadStats stats_;
};

}  // namespace af::clickhouse
