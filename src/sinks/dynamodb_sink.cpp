#include "sinks/dynamodb_sink.hpp"
#include "sinks/sink_descriptor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <unordered_map>

#include "common/log.hpp"
#include "common/number_format.hpp"
#include "sinks/aws_credential_chain.hpp"
#include "sinks/prediction_json.hpp"

namespace af::sinks {
namespace {

using nlohmann::json;

constexpr size_t kBatchLimit = 25;  // BatchWriteItem's limit

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" -> "ResourceNotFoundException"
std::string error_type(const json& body) {
  std::string t = body.is_object() ? body.value("__type", std::string()) : std::string();
  const size_t hash = t.rfind('#');
  return hash == std::string::npos ? t : t.substr(hash + 1);
}

bool throttling(const std::string& type) {
  return type == "ThrottlingException" || type == "ProvisionedThroughputExceededException" ||
         type == "RequestLimitExceeded" || type == "LimitExceededException" || type == "InternalServerError" ||
         type == "ServiceUnavailable" || type == "TransactionInProgressException";
}

std::string now_amz_date() {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return amz_date_from_unix(s);
}

}  // namespace

DynamoDbSink::DynamoDbSink(std::string name, DynamoDbConfig config)
    : name_(std::move(name)), config_(std::move(config)) {
  endpoint_ = config_.endpoint_url.empty() ? "https://dynamodb." + config_.region + ".amazonaws.com"
                                           : config_.endpoint_url;
}

DynamoDbSink::~DynamoDbSink() = default;

Error DynamoDbSink::error(const std::string& what, bool transient) const {
  return make_error(name_ + " (" + endpoint_ + ", table " + config_.table_name + "): " + what, transient);
}

Result<json> DynamoDbSink::call(const std::string& operation, const json& request) {
  auto res = call_once(operation, request);
  // Keys revoked or expired before the time they announced: new ones, one retry.
  if (!res && res.error().message.find(" ExpiredToken") != std::string::npos) {
    credentials_->invalidate();
    logger("sinks")->warn("sink={} the server rejected the AWS credentials as expired; fetching new ones", name_);
    res = call_once(operation, request);
    // Still refused: the provider hands out stale keys; a passing condition for the worker.
    if (!res && !res.error().transient) return make_error(res.error().message, true);
  }
  return res;
}

Result<json> DynamoDbSink::call_once(const std::string& operation, const json& request) {
  auto keys = credentials_->current();
  if (!keys) return error(keys.error().message, keys.error().transient);
  const std::string body = request.dump();
  SigV4Request r;
  r.method = "POST";
  net::Url url = url_;
  url.target = url_.base_path() + "/";
  r.path = url.target;
  r.headers = {{"Host", url.host_header()},
               {"Content-Type", "application/x-amz-json-1.0"},
               {"X-Amz-Target", "DynamoDB_20120810." + operation}};
  r.body = body;
  SigV4Options o;
  o.region = config_.region;
  o.service = "dynamodb";
  o.amz_date = now_amz_date();
  const auto sig = sigv4_sign(r, *keys, o);
  std::vector<std::pair<std::string, std::string>> headers(r.headers.begin() + 1, r.headers.end());
  headers.insert(headers.end(), sig.added_headers.begin(), sig.added_headers.end());
  auto res = http_->request("POST", url, headers, body);
  if (!res) return error(operation + ": " + res.error().message, res.error().transient);
  json parsed = json::parse(res->body, nullptr, false);
  if (res->status == 200) {
    if (parsed.is_discarded()) return error(operation + ": response is not JSON", true);
    return parsed;
  }
  const std::string type = error_type(parsed);
  std::string message = parsed.is_object() ? parsed.value("message", parsed.value("Message", std::string())) : "";
  if (message.empty()) message = res->body.substr(0, 200);
  const bool transient = res->status >= 500 || throttling(type) || res->status == 429;
  return error(operation + ": HTTP " + std::to_string(res->status) + " " + type + ": " + message, transient);
}

Status DynamoDbSink::open() {
  if (config_.table_name.empty()) return error("table_name is empty", false);
  auto url = net::parse_http_url(endpoint_);
  if (!url) return error(url.error().message, false);
  url_ = std::move(*url);
  AwsCredentialChainOptions co;
  co.refresh_margin_ms = config_.credentials_refresh_margin_ms;
  co.ca_file = config_.ca_file;
  credentials_ = std::make_unique<AwsCredentialChain>(std::move(co));
  if (auto keys = credentials_->current(); !keys) {
    // An endpoint that is down at start-up is a transient error: the worker retries.
    if (!keys.error().transient) return error(keys.error().message, false);
    logger("sinks")->warn("sink={} AWS credentials not available at start-up, will retry: {}", name_,
                          keys.error().message);
    return {};
  }
  logger("sinks")->info("sink={} AWS credentials from {}", name_, credentials_->provider());
  net::HttpClientOptions o;
  o.connect_timeout_ms = config_.timeout_ms;
  o.io_timeout_ms = config_.timeout_ms;
  o.ca_file = config_.ca_file;
  o.user_agent = "alpha_forge-sinks";
  o.body_limit = 64 * 1024 * 1024;  // DynamoDB answers are small; UnprocessedItems at most a batch
  http_ = std::make_unique<net::HttpClient>(std::move(o));
  if (url_.tls()) {
    // A CA file that does not load stops the sink now, not at every write.
    if (Status st = http_->prepare_tls(); !st) return error(st.error().message, false);
  }
  Status st = ensure_table();
  if (!st && st.error().transient) {
    logger("sinks")->warn("sink={} DynamoDB not reachable at start-up, will retry: {}", name_, st.error().message);
    return {};
  }
  return st;
}

Status DynamoDbSink::ensure_table() {
  auto described = call("DescribeTable", json{{"TableName", config_.table_name}});
  if (!described) {
    const bool missing = described.error().message.find("ResourceNotFoundException") != std::string::npos;
    if (!missing) return described.error();
    if (!config_.create_table)
      return error("table does not exist (create it, or set create_table: true)", false);
    json create = {{"TableName", config_.table_name},
                   {"AttributeDefinitions",
                    json::array({{{"AttributeName", "pk"}, {"AttributeType", "S"}},
                                 {{"AttributeName", "ts"}, {"AttributeType", "N"}}})},
                   {"KeySchema", json::array({{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                                              {{"AttributeName", "ts"}, {"KeyType", "RANGE"}}})},
                   {"BillingMode", "PAY_PER_REQUEST"}};
    auto created = call("CreateTable", create);
    if (!created && created.error().message.find("ResourceInUseException") == std::string::npos)
      return created.error();
    // Wait (bounded) until the table is ACTIVE; emulators are immediate.
    for (int i = 0; i < 100; ++i) {
      described = call("DescribeTable", json{{"TableName", config_.table_name}});
      if (!described) return described.error();
      if ((*described)["Table"].value("TableStatus", std::string()) == "ACTIVE") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    logger("sinks")->info("sink={} created DynamoDB table {}", name_, config_.table_name);
  }
  if (!described) return described.error();
  // The key schema must be ours, or puts would be rejected one by one.
  const auto& schema = (*described)["Table"]["KeySchema"];
  bool pk = false, ts = false;
  if (schema.is_array()) {
    for (const auto& k : schema) {
      const std::string n = k.value("AttributeName", std::string());
      const std::string t = k.value("KeyType", std::string());
      pk = pk || (n == "pk" && t == "HASH");
      ts = ts || (n == "ts" && t == "RANGE");
    }
  }
  if (!pk || !ts) return error("table key schema is not (pk HASH, ts RANGE)", false);
  ready_ = true;
  return {};
}

void DynamoDbSink::sleep_backoff(int round) {
  int64_t ms = config_.initial_backoff_ms;
  for (int i = 0; i < round && ms < config_.max_backoff_ms; ++i) ms *= 2;
  ms = std::min(ms, config_.max_backoff_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

Status DynamoDbSink::write_chunk(json items) {
  for (int round = 0;; ++round) {
    json req = {{"RequestItems", {{config_.table_name, items}}}};
    auto res = call("BatchWriteItem", req);
    if (!res) {
      const bool throttled = res.error().transient && round < config_.max_unprocessed_rounds &&
                             res.error().message.find("HTTP 400") != std::string::npos;
      if (!throttled) return res.error();
      ++throttled_;
      sleep_backoff(round);
      continue;
    }
    json unprocessed = json::array();
    if (auto it = res->find("UnprocessedItems"); it != res->end() && it->is_object()) {
      if (auto t = it->find(config_.table_name); t != it->end() && t->is_array()) unprocessed = *t;
    }
    items_written_ += items.size() - unprocessed.size();
    if (unprocessed.empty()) return {};
    if (round >= config_.max_unprocessed_rounds)
      return error(std::to_string(unprocessed.size()) + " items still unprocessed after " +
                       std::to_string(round + 1) + " rounds",
                   true);
    unprocessed_resent_ += unprocessed.size();
    items = std::move(unprocessed);
    sleep_backoff(round);
  }
}

Status DynamoDbSink::write(std::span<const PredictionRecord> batch) {
  if (!http_) return error("write before open", false);
  if (batch.empty()) return {};
  if (!ready_) {
    if (Status st = ensure_table(); !st) return st;
  }
  // One BatchWriteItem may not hold two puts of one key: keep the last record per
  // (pk, ts), in first-seen order.
  std::vector<json> puts;
  std::unordered_map<std::string, size_t> index;
  std::string pk;
  for (const auto& r : batch) {
    pk = field_text(r.dag_name) + "#" + field_text(r.symbol);
    json item = {{"pk", {{"S", pk}}},
                 {"ts", {{"N", std::to_string(r.ts)}}},
                 {"symbol", {{"S", field_text(r.symbol)}}},
                 {"dag_name", {{"S", field_text(r.dag_name)}}},
                 {"frame", {{"S", field_text(r.frame)}}},
                 {"column", {{"S", field_text(r.column)}}},
                 {"emitted_at", {{"N", std::to_string(r.emitted_at)}}},
                 {"origin", {{"S", bar_origin_name(r.origin)}}}};
    // DynamoDB numbers cannot be NaN or infinite: those are stored as strings.
    if (std::isfinite(r.prediction)) {
      item["prediction"] = {{"N", format_double(r.prediction)}};
    } else {
      item["prediction"] = {{"S", format_double(r.prediction)}};
    }
    json put = {{"PutRequest", {{"Item", std::move(item)}}}};
    const std::string key = pk + '\x1f' + std::to_string(r.ts);
    if (auto it = index.find(key); it != index.end()) {
      puts[it->second] = std::move(put);
    } else {
      index.emplace(key, puts.size());
      puts.push_back(std::move(put));
    }
  }
  for (size_t i = 0; i < puts.size(); i += kBatchLimit) {
    json chunk = json::array();
    for (size_t j = i; j < std::min(puts.size(), i + kBatchLimit); ++j) chunk.push_back(std::move(puts[j]));
    if (Status st = write_chunk(std::move(chunk)); !st) return st;
  }
  return {};
}

registry::Descriptor dynamodb_descriptor() {
  using registry::ParamSpec;
  using registry::ParamType;
  registry::Descriptor d = sink_descriptor();
  d.name = "sinks.dynamodb";
  d.summary = "Write predictions to a DynamoDB table (BatchWriteItem, SigV4), one item per record key";
  d.doc =
      "Items: partition key `pk` = `dag_name#symbol` (S), sort key `ts` (N, bar open time in ms), attributes "
      "`symbol`, `dag_name`, `prediction` (N; S for NaN/inf), `frame`, `column`, `emitted_at` (N), `origin`. "
      "Re-sending a record overwrites the same item, so retries and spool replays are idempotent. "
      "BatchWriteItem with 25 puts a request; UnprocessedItems are re-sent and throttling errors backed off "
      "(exponential, 50 ms to 2 s), then the batch is retried by the sink worker. Requests are signed with "
      "AWS Signature Version 4; credentials from the AWS SDKs' chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / "
      "AWS_SESSION_TOKEN, the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile "
      "AWS_PROFILE or default), web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN via STS), the container "
      "credentials endpoint, the instance metadata service (IMDSv2); temporary credentials are refreshed 5 "
      "minutes before they expire. They are never logged. With create_table the table is created "
      "(PAY_PER_REQUEST). An endpoint that is down at start-up is retried; a missing table without "
      "create_table, unreadable credentials or a bad endpoint_url stop the sink at start-up.";
  d.params.push_back(ParamSpec{"table_name", ParamType::kString, true, {}, {}, {}, {}, "the table"});
  d.params.push_back(ParamSpec{"region", ParamType::kString, false, {}, {}, {}, {},
                               "AWS region; default: $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1"});
  d.params.push_back(ParamSpec{"endpoint_url", ParamType::kString, false, {}, {}, {}, {},
                               "default https://dynamodb.<region>.amazonaws.com; http://127.0.0.1:PORT for an "
                               "emulator"});
  d.params.push_back(ParamSpec{"create_table", ParamType::kBool, false, false, {}, {}, {},
                               "create the table (pk S HASH, ts N RANGE, on demand) if it does not exist"});
  d.check = [](const registry::Params& p) {
    std::vector<std::string> problems;
    if (p.has("endpoint_url")) {
      auto u = net::parse_http_url(p.get_string("endpoint_url"));
      if (!u) problems.push_back("endpoint_url: " + u.error().message);
    }
    if (p.has("table_name") && p.get_string("table_name").empty()) problems.push_back("table_name: empty");
    return problems;
  };
  return d;
}

void register_dynamodb(SinkRegistry& registry) {
  registry.add(dynamodb_descriptor(), [](const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    DynamoDbConfig c;
    const auto& p = ctx.params;
    c.table_name = p.get_string("table_name");
    if (p.has("region")) {
      c.region = p.get_string("region");
    } else if (!env("AWS_REGION").empty()) {
      c.region = env("AWS_REGION");
    } else if (!env("AWS_DEFAULT_REGION").empty()) {
      c.region = env("AWS_DEFAULT_REGION");
    }
    if (p.has("endpoint_url")) c.endpoint_url = p.get_string("endpoint_url");
    if (p.has("create_table")) c.create_table = p.get_bool("create_table");
    c.ca_file = ctx.ca_file;
    return std::unique_ptr<Sink>(std::make_unique<DynamoDbSink>(ctx.name, std::move(c)));
  });
}

}  // namespace af::sinks
