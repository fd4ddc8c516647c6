#pragma once
// DynamoDbSink (`sinks.dynamodb`): writes prediction records to a DynamoDB table
// with BatchWriteItem (25 items a request) over HTTP(S), signed with the
// project's SigV4 signer. Built by the SinkRegistry factory; owned and driven by
// one SinkWorker thread (no internal locking).
//
// One item per record key: partition key `pk` = "dag_name#symbol" (S), sort key
// `ts` (N, ms), so that sending a record again overwrites the same item
// (idempotent). Other fields are attributes. UnprocessedItems are re-sent with
// backoff, throttling errors are backed off and retried, and if a batch still
// cannot be completed the write fails transiently (the worker retries the
// whole batch, which is harmless since puts are idempotent).
//
// As with ClickHouse, an endpoint that is down at open() is not an error: the
// table check waits for the first write. A missing table (without
// create_table), unreadable credentials or a bad endpoint are fatal at start-up.
// Credentials come from AwsCredentialChain (the AWS SDKs' provider order);
// temporary ones are refreshed on this worker thread before they expire, and
// once more after the server answers ExpiredTokenException.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "net/http_client.hpp"
#include "net/http_url.hpp"
#include "registry/descriptor.hpp"
#include "runtime/sink.hpp"
#include "sinks/aws_credential_chain.hpp"
#include "sinks/sigv4.hpp"

namespace af::sinks {

struct DynamoDbConfig {
  std::string table_name;
  std::string region = "us-east-1";
  std::string endpoint_url;  // "" : https://dynamodb.<region>.amazonaws.com
  bool create_table = false;
  int64_t timeout_ms = 10'000;
  std::string ca_file;  // for https ("" = $SSL_CERT_FILE, else the system CAs)
  int max_unprocessed_rounds = 8;  // re-sends of UnprocessedItems / throttled requests within one write
  int64_t credentials_refresh_margin_ms = 5 * 60 * 1000;  // temporary credentials: refreshed this long before expiry
  int64_t initial_backoff_ms = 50;
  int64_t max_backoff_ms = 2000;
};

class DynamoDbSink : public Sink {
 public:
  DynamoDbSink(std::string name, DynamoDbConfig config);
  ~DynamoDbSink() override;

  Status open() override;
  Status write(std::span<const PredictionRecord> batch) override;
  Status flush() override { return {}; }
  Status close() override { return {}; }

  uint64_t items_written() const { return items_written_; }
  uint64_t unprocessed_resent() const { return unprocessed_resent_; }
  uint64_t throttled() const { return throttled_; }

  // One DynamoDB API call ("DescribeTable", ...); the parsed JSON response.
  Result<nlohmann::json> call(const std::string& operation, const nlohmann::json& request);

 private:
  Error error(const std::string& what, bool transient) const;
  Result<nlohmann::json> call_once(const std::string& operation, const nlohmann::json& request);
  Status ensure_table();
  Status write_chunk(nlohmann::json items);  // at most 25 PutRequests
  void sleep_backoff(int round);

  const std::string name_;
  const DynamoDbConfig config_;
  std::string endpoint_;
  net::Url url_;  // endpoint_, parsed by open()
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<AwsCredentialChain> credentials_;
  bool ready_ = false;
  uint64_t items_written_ = 0;
  uint64_t unprocessed_resent_ = 0;
  uint64_t throttled_ = 0;
};

registry::Descriptor dynamodb_descriptor();
void register_dynamodb(SinkRegistry& registry);

}  // namespace af::sinks
