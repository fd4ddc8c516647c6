// sinks.clickhouse against a real ClickHouse server (Debian's 18.16 in CI),
// read back over curl. The shared server comes from scripts/test_servers.sh
// (AF_CLICKHOUSE_URL); the down-at-start and kill/restart cases start their own
// instance from the same config on fresh ports and a temporary data directory.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>

#include "clickhouse_test_support.hpp"
#include "delivery/signal_emitter.hpp"
#include "clickhouse/clickhouse_sink.hpp"
#include "clickhouse/register_builtins.hpp"
#include "support/prediction_records.hpp"
#include "support/process.hpp"

namespace af::clickhouse {
namespace {

using af::testing::ChildProcess;
using af::testing::env;
using af::testing::run_command;
using af::testing::TempDir;
using af::testing::wait_until;
using namespace std::chrono_literals;

const std::string kBtc = "BTCUSDT";
const std::string kEth = "ETHUSDT";
const std::string kDag = "dag_ch";
const std::string kFrame = "f1h";
const std::string kColumn = "y\"hat";
constexpr int64_t kT0 = 1'766'754'000'000;  // 2025-12-26T13:00:00Z
constexpr int64_t kHour = 3'600'000;

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kStream};

PredictionRecord rec(int i, const std::string& symbol = kBtc) {
  return kLabels.record(kT0 + i * kHour, symbol, 0.25 * i - 3, kT0 + i * kHour + 1234);
}

std::string unique_table() {
  std::random_device rd;
  return "t_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1'000'000);
}

// One statement through curl, an independent client; returns the body or
// "ERROR: ..." for a failed request.
std::string ch(const std::string& url, const std::string& sql) {
  TempDir tmp;
  af::testing::write_file(tmp.path() / "q.sql", sql);
  auto r = run_command("curl -sS --max-time 10 --fail-with-body --data-binary @" + (tmp / "q.sql") + " '" + url + "/'");
  if (r.exit_code != 0) return "ERROR: " + r.out + r.err;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

SinkWorkerOptions fast() {
  SinkWorkerOptions o;
  o.max_batch = 7;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff_ms = 20;
  o.retry.max_backoff_ms = 200;
  o.retry.spool_after_ms = 300;
  return o;
}

std::unique_ptr<ClickHouseSink> make_sink(const std::string& url, const std::string& table, bool create) {
  ClickHouseConfig c;
  c.url = url;
  c.table_name = table;
  c.create_table = create;
  c.timeout_ms = 3000;
  return std::make_unique<ClickHouseSink>("sinks.clickhouse[0]", c);
}

class ClickHouseSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = env("AF_CLICKHOUSE_URL");
    if (url_.empty())
      GTEST_SKIP() << "AF_CLICKHOUSE_URL is not set: start a server with scripts/test_servers.sh start DIR, then "
                      "eval \"$(scripts/test_servers.sh env DIR)\"";
    table_ = unique_table();
  }
  void TearDown() override {
    if (!url_.empty()) ch(url_, "DROP TABLE IF EXISTS default." + table_);
  }
  std::string url_, table_;
};

TEST_F(ClickHouseSinkTest, EveryRecordOnceWithAllFields) {
  SignalEmitter e(fast());
  e.add("sinks.clickhouse[0]", make_sink(url_, table_, true));
  ASSERT_TRUE(e.open_all().ok()) << e.status().error().message;
  for (int i = 0; i < 60; ++i) {
    e.emit(rec(i, kBtc));
    e.emit(rec(i, kEth));
  }
  ASSERT_TRUE(e.close().ok());
  const auto st = e.stats()[0];
  EXPECT_EQ(st.sent, 120u);
  EXPECT_EQ(st.failed, 0u);
  // Every record once: raw rows (before any merge) equal what the sink sent.
  EXPECT_EQ(ch(url_, "SELECT count() FROM default." + table_), std::to_string(st.sent));
  EXPECT_EQ(ch(url_, "SELECT uniqExact(symbol, ts) FROM default." + table_), "120");
  // Sum of predictions: 2 * sum(0.25 i - 3), i < 60, exactly representable.
  EXPECT_EQ(ch(url_, "SELECT sum(prediction) FROM default." + table_), "525");
  EXPECT_EQ(ch(url_, "SELECT dag_name, symbol, ts, ts_time, prediction, frame, `column`, emitted_at, origin FROM "
                     "default." + table_ + " WHERE symbol = 'ETHUSDT' AND ts = " + std::to_string(kT0 + 5 * kHour) +
                     " FORMAT TabSeparated"),
            "dag_ch\tETHUSDT\t1766772000000\t2025-12-26 18:00:00\t-1.75\tf1h\ty\"hat\t1766772001234\tstream");
}

TEST_F(ClickHouseSinkTest, ReSentRecordsAreOneRowAfterMerge) {
  {
    SignalEmitter e(fast());
    e.add("sinks.clickhouse[0]", make_sink(url_, table_, true));
    ASSERT_TRUE(e.open_all().ok());
    for (int i = 0; i < 40; ++i) e.emit(rec(i));
    ASSERT_TRUE(e.close().ok());
  }
  SignalEmitter e(fast());  // a restart that re-emits 30..49
  e.add("sinks.clickhouse[0]", make_sink(url_, table_, false));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 30; i < 50; ++i) e.emit(rec(i));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(ch(url_, "SELECT count() FROM default." + table_ + " FINAL"), "50");
}

TEST_F(ClickHouseSinkTest, MissingTableWithoutCreateTableIsFatalAtStartUp) {
  SignalEmitter e(fast());
  e.add("sinks.clickhouse[0]", make_sink(url_, table_, false));
  Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("does not exist"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(table_), std::string::npos) << st.error().message;
}

TEST_F(ClickHouseSinkTest, TableWithoutOurColumnsIsFatalAtStartUp) {
  ASSERT_EQ(ch(url_, "CREATE TABLE default." + table_ + " (x UInt8) ENGINE = Memory"), "");
  SignalEmitter e(fast());
  e.add("sinks.clickhouse[0]", make_sink(url_, table_, false));
  Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("lacks column(s) dag_name"), std::string::npos) << st.error().message;
}

TEST_F(ClickHouseSinkTest, BadCredentialsAreFatalAtStartUp) {
  ClickHouseConfig c;
  c.url = url_;
  c.table_name = table_;
  c.create_table = true;
  c.user = "nobody_here";
  c.password = "x";
  SignalEmitter e(fast());
  e.add("sinks.clickhouse[0]", std::make_unique<ClickHouseSink>("sinks.clickhouse[0]", c));
  Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("HTTP 401"), std::string::npos) << st.error().message;
}

TEST(ClickHouseSinkConfig, BadUrlIsFatalAtStartUp) {
  for (const char* url : {"ftp://127.0.0.1:8123", "http://", "http://127.0.0.1:99999", "127.0.0.1:8123"}) {
    SignalEmitter e(fast());
    e.add("sinks.clickhouse[0]", make_sink(url, "t", true));
    Status st = e.open_all();
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_NE(st.error().message.find("bad URL"), std::string::npos) << st.error().message;
  }
  // The descriptor's check reports it before anything starts.
  SinkRegistry reg;
  DataSourceRegistry data;
  register_builtins(data, reg);
  registry::Params p;
  p.set("url", std::string("ftp://x"));
  p.set("table_name", std::string("t"));
  const auto* d = reg.find("sinks.clickhouse");
  ASSERT_NE(d, nullptr);
  const auto problems = d->descriptor.check(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("bad URL"), std::string::npos);
}

// A ClickHouse instance of this test's own, on fresh ports, whose data
// directory survives kill() and start().
class PrivateClickHouse {
 public:
  PrivateClickHouse() : http_(af::testing::free_port()), tcp_(af::testing::free_port()) {}
  bool start() {
    return proc_.start({env("AF_CLICKHOUSE_SERVER"), "--config-file=" + env("AF_CLICKHOUSE_CONFIG"), "--",
                        "--http_port=" + std::to_string(http_), "--tcp_port=" + std::to_string(tcp_),
                        "--path=" + dir_.path().string() + "/", "--tmp_path=" + dir_.path().string() + "/tmp/"},
                       dir_ / "server.log");
  }
  bool wait_up() {
    return wait_until([&] { return ch(url(), "SELECT 1") == "1"; }, 15s);
  }
  void kill() { proc_.kill(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_); }

 private:
  TempDir dir_;
  int http_, tcp_;
  ChildProcess proc_;
};

class PrivateClickHouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("AF_CLICKHOUSE_SERVER").empty() || env("AF_CLICKHOUSE_CONFIG").empty())
      GTEST_SKIP() << "AF_CLICKHOUSE_SERVER / AF_CLICKHOUSE_CONFIG not set (scripts/test_servers.sh start DIR "
                      "writes them to DIR/endpoints.env; eval \"$(scripts/test_servers.sh env DIR)\")";
  }
};

TEST_F(PrivateClickHouseTest, DownAtStartSpoolsThenDeliversWhenItComesUp) {
  PrivateClickHouse server;
  TempDir spool;
  SignalEmitter e(fast());
  e.set_spool_dir(spool.path().string());
  e.add("sinks.clickhouse[0]", make_sink(server.url(), "t", true));
  ASSERT_TRUE(e.open_all().ok()) << "a server down at start-up is not a configuration error";
  for (int i = 0; i < 50; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].spooled > 0; }, 10s)) << "records should be spooled";
  EXPECT_EQ(e.stats()[0].sent, 0u);
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(server.wait_up());
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 50; }, 15s)) << e.stats()[0].last_error;
  ASSERT_TRUE(e.close().ok());
  const auto st = e.stats()[0];
  EXPECT_EQ(st.sent, 50u);
  EXPECT_EQ(st.failed, 0u);
  EXPECT_EQ(ch(server.url(), "SELECT count() FROM default.t"), std::to_string(st.sent));
  EXPECT_EQ(ch(server.url(), "SELECT uniqExact(ts) FROM default.t"), "50");
}

TEST_F(PrivateClickHouseTest, KilledAndRestartedMidRunDeliversEveryRecord) {
  PrivateClickHouse server;
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(server.wait_up());
  TempDir spool;
  SignalEmitter e(fast());
  e.set_spool_dir(spool.path().string());
  e.add("sinks.clickhouse[0]", make_sink(server.url(), "t", true));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 0; i < 30; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 30; }, 10s));
  server.kill();
  for (int i = 30; i < 60; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].retried > 0; }, 10s));
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(server.wait_up());
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 60; }, 15s)) << e.stats()[0].last_error;
  ASSERT_TRUE(e.close().ok());
  const auto st = e.stats()[0];
  EXPECT_EQ(st.failed, 0u);
  // The server was killed between requests, so no insert was half-answered:
  // the rows are exactly what the sink sent.
  EXPECT_EQ(ch(server.url(), "SELECT count() FROM default.t"), std::to_string(st.sent));
  EXPECT_EQ(ch(server.url(), "SELECT count() FROM default.t FINAL"), "60");
}

}  // namespace
}  // namespace af::clickhouse
