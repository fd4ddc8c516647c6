#pragma once
// ClickHouseSink (`sinks.clickhouse`): inserts prediction records into a
// ClickHouse table over the HTTP interface, one `INSERT ... FORMAT JSONEachRow`
// per batch. Built by the SinkRegistry factory; owned and driven by one
// SinkWorker thread (no internal locking).
//
// The table is a ReplacingMergeTree ordered by (dag_name, symbol, ts), so a
// record sent twice (a retried batch, a replayed spool) is one row once merged
// (read with FINAL). ts is stored as UInt64 ms beside a DateTime('UTC') column,
// because the ClickHouse of Debian 12 (18.16) has no DateTime64. Only HTTP
// features that 18.16 and current versions share are used: the query in the
// `query` parameter, X-ClickHouse-User/Key headers, fully qualified table names.
//
// A server that is down at open() is not an error: the table check is retried
// before the first write, and writes fail transiently until it answers, so the
// worker retries and spools. A missing table (without create_table), a missing
// column or rejected credentials are fatal.

#include <cstdint>
#include <memory>
#include <string>

#include "clickhouse/clickhouse_client.hpp"
#include "registry/descriptor.hpp"
#include "runtime/sink.hpp"

namespace af::clickhouse {

struct ClickHouseConfig {
  std::string url = "http://127.0.0.1:8123";
  std::string database = "default";
  std::string table_name;
  std::string user;      // "" : the server's default user
  std::string password;
  bool create_table = false;
  int64_t timeout_ms = 10'000;
  std::string ca_file;  // for https ("" = $SSL_CERT_FILE, else the system CAs)
};

class ClickHouseSink : public Sink {
 public:
  ClickHouseSink(std::string name, ClickHouseConfig config);
  ~ClickHouseSink() override;

  Status open() override;
  Status write(std::span<const PredictionRecord> batch) override;
  Status flush() override { return {}; }
  Status close() override { return {}; }

  uint64_t inserted() const { return inserted_; }  // records in successful INSERTs (this process)
  // Runs one statement (for tests and the table check); returns the body.
  Result<std::string> query(const std::string& sql, const std::string& body = {});

 private:
  Error error(const std::string& what, bool transient) const;
  Status ensure_table();  // checks (and creates) the table; sets ready_
  std::string qualified_table() const;

  const std::string name_;
  const ClickHouseConfig config_;
  std::unique_ptr<ClickHouseClient> client_;
  bool ready_ = false;  // the table has been checked
  std::string body_;    // reused INSERT body
  uint64_t inserted_ = 0;
};

registry::Descriptor clickhouse_descriptor();
void register_clickhouse(SinkRegistry& registry);

}  // namespace af::clickhouse
