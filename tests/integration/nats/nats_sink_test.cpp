// sinks.nats against a real nats-server with JetStream, through the delivery
// layer (SignalEmitter: batching, retry, spool), read back from the stream. The
// shared node comes from scripts/test_servers.sh (AF_TEST_NATS_URL); the
// down-at-start and stop/restart cases run a server of their own.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "delivery/signal_emitter.hpp"
#include "nats/nats_sink.hpp"
#include "stream_reader.hpp"
#include "support/nats_server.hpp"
#include "support/prediction_records.hpp"

namespace af::nats {
namespace {

using af::testing::NatsServer;
using af::testing::TempDir;
using af::testing::wait_until;
using namespace std::chrono_literals;
using testing::read_stream;

const std::string kBtc = "BTCUSDT";
const std::string kEth = "ETHUSDT";
const std::string kDag = "dag_nats";
const std::string kFrame = "f1h";
const std::string kColumn = "y\"hat";
constexpr int64_t kT0 = 1'766'754'000'000;  // 2025-12-26T13:00:00Z
constexpr int64_t kHour = 3'600'000;

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kStream};

PredictionRecord rec(int i, const std::string& symbol = kBtc) {
  return kLabels.record(kT0 + i * kHour, symbol, 0.25 * i - 3, kT0 + i * kHour + 1234);
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

// Per test process: a stream and a subject prefix nobody else uses.
std::string unique_stream() { return "AFTEST_PRED_" + std::to_string(::getpid()); }
std::string unique_prefix() { return "aftest.p" + std::to_string(::getpid()); }

std::unique_ptr<NatsSink> make_sink(const std::string& url, const std::string& stream, bool create,
                                    const std::string& prefix = unique_prefix()) {
  NatsSinkConfig c;
  c.url = url;
  c.stream = stream;
  c.subject_prefix = prefix;
  c.create_stream = create;
  c.timeout_ms = 1000;
  return std::make_unique<NatsSink>("sinks.nats[0]", kDag, c);
}

std::unique_ptr<BusConnection> connect(const std::string& url) {
  auto o = parse_bus_options(url);
  EXPECT_TRUE(o) << o.error().message;
  auto c = BusConnection::connect(*o);
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : nullptr;
}

// Every record 0..n-1 of kBtc exactly once, in order, by id.
void expect_each_once(const std::vector<testing::StoredMessage>& msgs, int n) {
  std::set<std::string> ids;
  for (const auto& m : msgs) EXPECT_TRUE(ids.insert(m.msg_id).second) << "twice: " << m.msg_id;
  EXPECT_EQ(msgs.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(ids.count(kDag + "#" + kBtc + "#" + std::to_string(kT0 + i * kHour))) << "missing record " << i;
  }
}

class NatsSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* u = std::getenv("AF_TEST_NATS_URL");
    if (!u || !*u) GTEST_SKIP() << "AF_TEST_NATS_URL is not set (scripts/test_servers.sh starts nats-server)";
    url_ = u;
    bus_ = connect(url_);
    ASSERT_TRUE(bus_);
    testing::delete_stream(*bus_, unique_stream());
  }
  void TearDown() override {
    if (bus_) testing::delete_stream(*bus_, unique_stream());
  }
  std::string url_;
  std::unique_ptr<BusConnection> bus_;
};

TEST_F(NatsSinkTest, EveryRecordOnceWithAllFields) {
  SignalEmitter e(fast());
  e.add("sinks.nats[0]", make_sink(url_, unique_stream(), true));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 0; i < 20; ++i) e.emit(rec(i));
  e.emit(rec(0, kEth));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(e.stats()[0].sent, 21u);
  EXPECT_EQ(e.stats()[0].skipped, 0u);
  const auto msgs = read_stream(*bus_, unique_stream());
  ASSERT_EQ(msgs.size(), 21u);
  EXPECT_EQ(msgs[3].subject, unique_prefix() + ".dag_nats.BTCUSDT");
  EXPECT_EQ(msgs[3].msg_id, "dag_nats#BTCUSDT#" + std::to_string(kT0 + 3 * kHour));
  EXPECT_EQ(msgs[3].payload, "{\"dag_name\":\"dag_nats\",\"symbol\":\"BTCUSDT\",\"ts\":1766764800000,"
                             "\"prediction\":-2.25,\"frame\":\"f1h\",\"column\":\"y\\\"hat\","
                             "\"emitted_at\":1766764801234,\"origin\":\"stream\"}");
  EXPECT_EQ(msgs[20].subject, unique_prefix() + ".dag_nats.ETHUSDT");
}

TEST_F(NatsSinkTest, ReSentRecordsAreStoredOnceAndCountedSkipped) {
  {
    SignalEmitter e(fast());
    e.add("sinks.nats[0]", make_sink(url_, unique_stream(), true));
    ASSERT_TRUE(e.open_all().ok());
    for (int i = 0; i < 50; ++i) e.emit(rec(i));
    ASSERT_TRUE(e.close().ok());
  }
  SignalEmitter e(fast());  // a restart that re-emits 30..49, then goes on
  e.add("sinks.nats[0]", make_sink(url_, unique_stream(), false));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 30; i < 70; ++i) e.emit(rec(i));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(e.stats()[0].sent, 40u);
  EXPECT_EQ(e.stats()[0].skipped, 20u);
  expect_each_once(read_stream(*bus_, unique_stream()), 70);
}

TEST_F(NatsSinkTest, MissingStreamWithoutCreateStreamIsFatalAtStartUp) {
  SignalEmitter e(fast());
  e.add("sinks.nats[0]", make_sink(url_, unique_stream(), false));
  const Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("sinks.nats[0] (" + url_ + ", stream " + unique_stream() + "): NATS stream " +
                                    unique_stream() + " does not exist on " + url_ +
                                    " (create it, or let this process create it)"),
            std::string::npos)
      << st.error().message;
}

TEST_F(NatsSinkTest, StreamWhoseSubjectsDoNotTakeOursIsFatalAtStartUp) {
  StreamSpec other;
  other.name = unique_stream();
  other.subjects = {unique_prefix() + ".other_dag.*"};
  ASSERT_TRUE(ensure_stream(*bus_, other, true));
  SignalEmitter e(fast());
  e.add("sinks.nats[0]", make_sink(url_, unique_stream(), true));
  const Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("NATS stream " + unique_stream() + " on " + url_ + " takes subjects [" +
                                    unique_prefix() + ".other_dag.*], not " + unique_prefix() + ".dag_nats.*"),
            std::string::npos)
      << st.error().message;
}

TEST(NatsSinkConfig, BadUrlAndPrefixAreFatalAtStartUpWithoutCredentials) {
  {
    SignalEmitter e(fast());
    e.add("sinks.nats[0]", make_sink("nats://alice:hunter2@127.0.0.1:x", "S", true));
    const Status st = e.open_all();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("sinks.nats[0]: url: URL 1 (nats://***@127.0.0.1:x): port 'x' is not a number"),
              std::string::npos)
        << st.error().message;
    EXPECT_EQ(st.error().message.find("hunter2"), std::string::npos);
  }
  SignalEmitter e(fast());
  e.add("sinks.nats[0]", make_sink("nats://127.0.0.1:4222", "S", true, "af.*"));
  const Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("subject_prefix: 'af.*' is not a subject prefix: token '*' contains the wildcard '*'"),
            std::string::npos)
      << st.error().message;
}

class PrivateNatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (af::testing::nats_server_binary().empty()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh test)";
  }
};

TEST_F(PrivateNatsTest, DownAtStartSpoolsThenDeliversWhenItComesUp) {
  TempDir dir;
  NatsServer server(dir.path().string());
  TempDir spool;
  SignalEmitter e(fast());
  e.set_spool_dir(spool.path().string());
  e.add("sinks.nats[0]", make_sink(server.url(), "AF_PREDICTIONS", true));
  ASSERT_TRUE(e.open_all().ok()) << "a bus down at start-up is not a configuration error";
  for (int i = 0; i < 50; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].spooled > 0; }, 20s)) << "records should be spooled";
  EXPECT_EQ(e.stats()[0].sent, 0u);
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 50; }, 30s)) << e.stats()[0].last_error;
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(e.stats()[0].failed, 0u);
  auto bus = connect(server.url());
  ASSERT_TRUE(bus);
  expect_each_once(read_stream(*bus, "AF_PREDICTIONS"), 50);
}

// The server stops mid-run (its store kept), records wait in retries and the
// spool, and after the restart every record is in the stream exactly once: a
// batch that was half-acked before the stop is re-sent with the same ids.
TEST_F(PrivateNatsTest, StoppedAndRestartedMidRunDeliversEveryRecordOnce) {
  TempDir dir;
  NatsServer server(dir.path().string());
  ASSERT_TRUE(server.start());
  TempDir spool;
  SignalEmitter e(fast());
  e.set_spool_dir(spool.path().string());
  e.add("sinks.nats[0]", make_sink(server.url(), "AF_PREDICTIONS", true));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 0; i < 30; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 30; }, 10s));
  server.stop();
  for (int i = 30; i < 60; ++i) e.emit(rec(i));
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].retried > 0; }, 20s));
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(wait_until([&] { return e.stats()[0].sent >= 60; }, 30s)) << e.stats()[0].last_error;
  for (int i = 60; i < 80; ++i) e.emit(rec(i));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(e.stats()[0].failed, 0u);
  auto bus = connect(server.url());
  ASSERT_TRUE(bus);
  expect_each_once(read_stream(*bus, "AF_PREDICTIONS"), 80);
}

}  // namespace
}  // namespace af::nats
