// sinks.dynamodb against a DynamoDB emulator (dynalite 3, from
// scripts/test_servers.sh: AF_DYNAMODB_URL), read back with curl --aws-sigv4,
// an independent client. Faults (an unreachable server, throttling,
// UnprocessedItems) come from a small HTTP proxy in front of the emulator.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "clickhouse_test_support.hpp"
#include "delivery/signal_emitter.hpp"
#include "sinks/dynamodb_sink.hpp"
#include "sinks/register_builtins.hpp"
#include "support/aws_credentials_server.hpp"
#include "support/prediction_records.hpp"
#include "support/process.hpp"

namespace af::sinks {
namespace {

using af::testing::env;
using af::testing::run_command;
using af::testing::TempDir;
using af::testing::wait_until;
using nlohmann::json;
using namespace std::chrono_literals;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

const std::string kBtc = "BTCUSDT";
const std::string kEth = "ETHUSDT";
const std::string kDag = "dag_ddb";
const std::string kFrame = "f1h";
const std::string kColumn = "yhat";
constexpr int64_t kT0 = 1'766'754'000'000;
constexpr int64_t kHour = 3'600'000;

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kStream};

PredictionRecord rec(int i, const std::string& symbol = kBtc) {
  return kLabels.record(kT0 + i * kHour, symbol, 0.25 * i - 3, kT0 + i * kHour + 1234);
}

std::string unique_table() {
  std::random_device rd;
  return "preds_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1'000'000);
}

// Every item of `table`, sorted by (pk, ts), read with curl's own SigV4 signing
// (--aws-sigv4), an independent client: paginated Scan calls.
json scan(const std::string& url, const std::string& table) {
  TempDir tmp;
  json items = json::array();
  json request = {{"TableName", table}};
  for (int page = 0; page < 100; ++page) {
    af::testing::write_file(tmp.path() / "req.json", request.dump());
    auto r = run_command("curl -sS --max-time 10 --aws-sigv4 'aws:amz:us-east-1:dynamodb' --user testing:testing "
                         "-H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.Scan' "
                         "--data-binary @" + (tmp / "req.json") + " " + url + "/");
    if (r.exit_code != 0) return json{{"error", r.err}};
    json res = json::parse(r.out, nullptr, false);
    if (!res.is_object() || !res.contains("Items")) return json{{"error", r.out}};
    for (auto& it : res["Items"]) items.push_back(it);
    if (!res.contains("LastEvaluatedKey")) break;
    request["ExclusiveStartKey"] = res["LastEvaluatedKey"];
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    const std::string pa = a["pk"]["S"], pb = b["pk"]["S"];
    if (pa != pb) return pa < pb;
    return std::stoll(a["ts"]["N"].get<std::string>()) < std::stoll(b["ts"]["N"].get<std::string>());
  });
  return items;
}

SinkWorkerOptions fast() {
  SinkWorkerOptions o;
  o.max_batch = 40;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff_ms = 20;
  o.retry.max_backoff_ms = 200;
  o.retry.spool_after_ms = 300;
  return o;
}

DynamoDbConfig config(const std::string& url, const std::string& table, bool create) {
  DynamoDbConfig c;
  c.endpoint_url = url;
  c.table_name = table;
  c.create_table = create;
  c.timeout_ms = 3000;
  c.initial_backoff_ms = 5;
  c.max_backoff_ms = 40;
  return c;
}

// An HTTP proxy in front of the emulator that injects faults, one request per
// connection: it closes each after its answer, so the sink's kept-alive
// connection is re-opened for every request. Runs on its own thread.
class FaultProxy {
 public:
  explicit FaultProxy(const std::string& upstream) : acceptor_(ioc_) {
    upstream_url_ = af::net::parse_http_url(upstream).value();
    upstream_url_.target = "/";
    net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    acceptor_.non_blocking(true);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { run(); });
  }
  ~FaultProxy() {
    stop_ = true;
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<bool> drop{false};          // close connections without an answer
  std::atomic<int> throttle{0};           // answer this many requests with 400 ThrottlingException
  std::atomic<int> unprocessed{0};        // this many BatchWriteItem calls only half done
  std::atomic<int> dropped{0}, throttled{0}, halved{0};
  // When set: requests whose X-Amz-Security-Token it calls expired are answered
  // as DynamoDB does (400 ExpiredTokenException), counted in `expired`.
  std::function<bool(const std::string&)> token_expired;
  std::atomic<int> expire_next{0};  // answer this many requests with ExpiredTokenException regardless
  std::atomic<int> expired{0};

 private:
  void run() {
    while (!stop_) {
      beast::error_code ec;
      net::ip::tcp::socket sock(ioc_);
      acceptor_.accept(sock, ec);
      if (ec) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      sock.non_blocking(false);
      serve(sock);
    }
  }
  void serve(net::ip::tcp::socket& sock) {
    beast::error_code ec;
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::read(sock, buf, req, ec);
    if (ec) return;
    if (drop) {
      ++dropped;
      return;  // closed without an answer
    }
    http::response<http::string_body> res;
    res.version(11);
    const std::string target(req["X-Amz-Target"]);
    const std::string token(req["X-Amz-Security-Token"]);
    if (expire_next > 0 || (token_expired && token_expired(token))) {
      if (expire_next > 0) --expire_next;
      ++expired;
      res.result(400);
      res.set(http::field::content_type, "application/x-amz-json-1.0");
      res.body() = R"({"__type":"com.amazon.coral.service#ExpiredTokenException",)"
                   R"("message":"The security token included in the request is expired"})";
    } else if (throttle > 0) {
      --throttle;
      ++throttled;
      res.result(400);
      res.set(http::field::content_type, "application/x-amz-json-1.0");
      res.body() = R"({"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"})";
    } else {
      std::string body = req.body();
      json held;
      std::string table;
      if (unprocessed > 0 && target.ends_with("BatchWriteItem")) {
        json j = json::parse(body);
        auto& items = j["RequestItems"].begin().value();
        table = j["RequestItems"].begin().key();
        if (items.size() > 1) {
          --unprocessed;
          ++halved;
          const size_t keep = items.size() / 2;
          held = json::array();
          for (size_t i = keep; i < items.size(); ++i) held.push_back(items[i]);
          items.erase(items.begin() + static_cast<std::ptrdiff_t>(keep), items.end());
          body = j.dump();
        }
      }
      std::vector<std::pair<std::string, std::string>> headers;
      for (const auto& f : req) {
        if (f.name() == http::field::host || f.name() == http::field::content_length) continue;
        headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      }
      auto up = upstream_.request("POST", upstream_url_, headers, body);
      if (!up) return;
      res.result(up->status);
      res.set(http::field::content_type, "application/x-amz-json-1.0");
      res.body() = up->body;
      if (!held.is_null() && up->status == 200) {
        json j = json::parse(up->body);
        j["UnprocessedItems"] = {{table, held}};
        res.body() = j.dump();
      }
    }
    res.prepare_payload();
    http::write(sock, res, ec);
    sock.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  }

  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_;
  af::net::Url upstream_url_;
  af::net::HttpClient upstream_{[] {
    af::net::HttpClientOptions o;
    o.connect_timeout_ms = 5000;
    o.io_timeout_ms = 5000;
    return o;
  }()};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class DynamoDbSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = env("AF_DYNAMODB_URL");
    if (url_.empty())
      GTEST_SKIP() << "AF_DYNAMODB_URL is not set: start the emulator with scripts/test_servers.sh start DIR, then "
                      "eval \"$(scripts/test_servers.sh env DIR)\"";
    ::setenv("AWS_ACCESS_KEY_ID", "testing", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    table_ = unique_table();
  }
  void TearDown() override {
    if (url_.empty()) return;
    run_command("curl -sS --max-time 5 --aws-sigv4 'aws:amz:us-east-1:dynamodb' --user testing:testing "
                "-H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.DeleteTable' "
                "--data-binary '{\"TableName\":\"" + table_ + "\"}' " + url_ + "/");
  }
  std::unique_ptr<DynamoDbSink> sink(const std::string& url, bool create = true) {
    return std::make_unique<DynamoDbSink>("sinks.dynamodb[0]", config(url, table_, create));
  }
  std::string url_, table_;
};

TEST_F(DynamoDbSinkTest, EveryRecordOnceAsOneItemPerKey) {
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", sink(url_));
  ASSERT_TRUE(e.open_all().ok()) << e.status().error().message;
  for (int i = 0; i < 60; ++i) {
    e.emit(rec(i, kBtc));
    e.emit(rec(i, kEth));
  }
  ASSERT_TRUE(e.close().ok());
  const auto st = e.stats()[0];
  EXPECT_EQ(st.sent, 120u);
  EXPECT_EQ(st.failed, 0u);
  const json items = scan(url_, table_);
  ASSERT_TRUE(items.is_array()) << items.dump();
  EXPECT_EQ(items.size(), st.sent);
  // items[0]: dag_ddb#BTCUSDT, ts = kT0.
  const json& first = items[0];
  EXPECT_EQ(first["pk"]["S"], "dag_ddb#BTCUSDT");
  EXPECT_EQ(first["ts"]["N"], std::to_string(kT0));
  EXPECT_EQ(first["symbol"]["S"], "BTCUSDT");
  EXPECT_EQ(first["dag_name"]["S"], "dag_ddb");
  EXPECT_EQ(first["prediction"]["N"], "-3");
  EXPECT_EQ(first["frame"]["S"], "f1h");
  EXPECT_EQ(first["column"]["S"], "yhat");
  EXPECT_EQ(first["emitted_at"]["N"], std::to_string(kT0 + 1234));
  EXPECT_EQ(first["origin"]["S"], "stream");
  EXPECT_EQ(items[119]["pk"]["S"], "dag_ddb#ETHUSDT");
  EXPECT_EQ(items[119]["ts"]["N"], std::to_string(kT0 + 59 * kHour));
  EXPECT_EQ(items[119]["prediction"]["N"], "11.75");
}

TEST_F(DynamoDbSinkTest, ReSentRecordsOverwriteTheSameItem) {
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", sink(url_));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 0; i < 30; ++i) e.emit(rec(i));
  for (int i = 20; i < 40; ++i) e.emit(rec(i));  // overlaps 20..29, also within one batch
  ASSERT_TRUE(e.close().ok());
  const json items = scan(url_, table_);
  ASSERT_TRUE(items.is_array()) << items.dump();
  EXPECT_EQ(items.size(), 40u);
}

TEST_F(DynamoDbSinkTest, MissingTableWithoutCreateTableIsFatalAtStartUp) {
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", sink(url_, false));
  Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("does not exist"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(table_), std::string::npos) << st.error().message;
}

TEST_F(DynamoDbSinkTest, UnreadableCredentialsFileIsFatalAtStartUp) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/af_credentials", 1);
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", sink(url_));
  Status st = e.open_all();
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot read credentials file '/nonexistent/af_credentials'"),
            std::string::npos)
      << st.error().message;
}

TEST_F(DynamoDbSinkTest, CredentialsFromTheSharedFileProfile) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  TempDir dir;
  const std::string secret = "s3cr3t-do-not-log";
  af::testing::write_file(dir.path() / "credentials",
                          "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = other\n"
                          "[profile ci]\naws_access_key_id = AKIACI\naws_secret_access_key = " + secret + "\n");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").c_str(), 1);
  ::setenv("AWS_PROFILE", "ci", 1);
  {
    SignalEmitter e(fast());
    e.add("sinks.dynamodb[0]", sink(url_));
    ASSERT_TRUE(e.open_all().ok()) << e.status().error().message;
    for (int i = 0; i < 5; ++i) e.emit(rec(i));
    ASSERT_TRUE(e.close().ok());
    EXPECT_EQ(e.stats()[0].sent, 5u);
  }
  ::setenv("AWS_PROFILE", "missing", 1);
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", sink(url_));
  Status st = e.open_all();
  ::unsetenv("AWS_PROFILE");
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no profile [missing]"), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().message.find(secret), std::string::npos);
  EXPECT_EQ(scan(url_, table_).size(), 5u);
}

TEST_F(DynamoDbSinkTest, BadEndpointUrlIsFatalAtStartUp) {
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", sink("dynamodb.local:8000"));
  Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("bad URL"), std::string::npos) << st.error().message;
}

TEST_F(DynamoDbSinkTest, UnprocessedItemsAndThrottlingAreRetried) {
  FaultProxy proxy(url_);
  SignalEmitter e(fast());
  auto s = sink(proxy.url());
  DynamoDbSink* raw = s.get();
  e.add("sinks.dynamodb[0]", std::move(s));
  ASSERT_TRUE(e.open_all().ok()) << e.status().error().message;
  proxy.throttle = 3;
  proxy.unprocessed = 4;
  for (int i = 0; i < 100; ++i) e.emit(rec(i));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(proxy.throttled.load(), 3);
  EXPECT_EQ(proxy.halved.load(), 4);
  EXPECT_EQ(raw->throttled(), 3u);
  EXPECT_GT(raw->unprocessed_resent(), 0u);
  EXPECT_EQ(e.stats()[0].sent, 100u);
  EXPECT_EQ(e.stats()[0].failed, 0u);
  EXPECT_EQ(scan(url_, table_).size(), 100u);
}

TEST_F(DynamoDbSinkTest, DownAtStartSpoolsThenDelivers) {
  FaultProxy proxy(url_);
  proxy.drop = true;
  TempDir spool;
  SignalEmitter e(fast());
  e.set_spool_dir(spool.path().string());
  e.add("sinks.dynamodb[0]", sink(proxy.url()));
  ASSERT_TRUE(e.open_all().ok()) << "an endpoint down at start-up is not a configuration error";
  for (int i = 0; i < 50; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].spooled > 0; }, 10s));
  EXPECT_EQ(e.stats()[0].sent, 0u);
  proxy.drop = false;
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 50; }, 15s)) << e.stats()[0].last_error;
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(e.stats()[0].failed, 0u);
  EXPECT_EQ(scan(url_, table_).size(), e.stats()[0].sent);
}

TEST_F(DynamoDbSinkTest, UnreachableMidRunThenBackDeliversEveryRecord) {
  FaultProxy proxy(url_);
  TempDir spool;
  SignalEmitter e(fast());
  e.set_spool_dir(spool.path().string());
  e.add("sinks.dynamodb[0]", sink(proxy.url()));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 0; i < 30; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 30; }, 10s));
  proxy.drop = true;
  for (int i = 30; i < 60; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].retried > 0; }, 10s));
  proxy.drop = false;
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 60; }, 15s)) << e.stats()[0].last_error;
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(e.stats()[0].failed, 0u);
  EXPECT_EQ(e.stats()[0].sent, 60u);
  EXPECT_EQ(scan(url_, table_).size(), 60u);
}

}  // namespace
}  // namespace af::sinks

namespace af::sinks {
namespace {

// Temporary credentials from the container credentials endpoint, each valid for
// 3 s, over a run of about 8 s: the sink refreshes them on its worker thread
// before they expire, never signs with an expired token (the proxy would answer
// ExpiredTokenException), and every record arrives.
TEST_F(DynamoDbSinkTest, TemporaryCredentialsExpiringDuringARunAreRefreshed) {
  af::test::AwsCredentialsServer creds;
  creds.lifetime_s = 3;
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", creds.container_url().c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", creds.container_token.c_str(), 1);
  FaultProxy proxy(url_);
  proxy.token_expired = [&creds](const std::string& token) { return creds.expired(token); };
  DynamoDbConfig c = config(proxy.url(), table_, true);
  c.credentials_refresh_margin_ms = 1500;
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", std::make_unique<DynamoDbSink>("sinks.dynamodb[0]", c));
  ASSERT_TRUE(e.open_all().ok()) << e.status().error().message;
  for (int i = 0; i < 40; ++i) {
    e.emit(rec(i));
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(e.close().ok());
  ::unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  ::unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  EXPECT_EQ(e.stats()[0].sent, 40u);
  EXPECT_EQ(e.stats()[0].failed, 0u);
  EXPECT_GE(creds.issued.load(), 3);  // 8 s of 3 s credentials (whole seconds), refreshed 1.5 s early
  EXPECT_EQ(proxy.expired.load(), 0);
  EXPECT_EQ(scan(url_, table_).size(), 40u);
}

// Keys revoked before their announced expiry: the server's ExpiredTokenException
// makes the sink fetch new ones and send again, once, without losing a record.
TEST_F(DynamoDbSinkTest, ExpiredTokenAnswerFetchesNewCredentials) {
  af::test::AwsCredentialsServer creds;
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", creds.container_url().c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", creds.container_token.c_str(), 1);
  FaultProxy proxy(url_);
  SignalEmitter e(fast());
  e.add("sinks.dynamodb[0]", sink(proxy.url()));
  ASSERT_TRUE(e.open_all().ok()) << e.status().error().message;
  for (int i = 0; i < 5; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent == 5u; }, 10s));
  const int issued = creds.issued.load();
  proxy.expire_next = 1;
  for (int i = 5; i < 10; ++i) e.emit(rec(i));
  ASSERT_TRUE(e.close().ok());
  ::unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  ::unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  EXPECT_EQ(proxy.expired.load(), 1);
  EXPECT_EQ(creds.issued.load(), issued + 1);
  EXPECT_EQ(e.stats()[0].sent, 10u);
  EXPECT_EQ(e.stats()[0].failed, 0u);
  EXPECT_EQ(scan(url_, table_).size(), 10u);
}

}  // namespace
}  // namespace af::sinks
