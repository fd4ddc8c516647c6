// The bus foundation against a real nats-server with JetStream: connecting (and
// failing to, with a clear error that names the bus without its credentials),
// creating a stream or finding one whose subjects do not fit, and publishing a
// bar whose id the server de-duplicates. The shared node comes from
// scripts/test_servers.sh (AF_TEST_NATS_URL); skips when it is absent.

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "nats/bar_stream.hpp"
#include "nats/stream_admin.hpp"
#include "support/nats_server.hpp"

namespace af::nats {
namespace {

using af::testing::free_loopback_port;
using af::testing::NatsServer;
using af::testing::TempDir;

const char* kStream = "AFTEST_BARS";

std::string test_url() {
  const char* u = std::getenv("AF_TEST_NATS_URL");
  return u ? u : "";
}

void delete_stream(BusConnection& bus, const std::string& name) {
  jsErrCode code = static_cast<jsErrCode>(0);
  js_DeleteStream(bus.jetstream(), name.c_str(), nullptr, &code);
}

uint64_t stream_messages(BusConnection& bus, const std::string& name) {
  auto d = describe_stream(bus, name);
  EXPECT_TRUE(d) << d.error().message;
  return d ? d->messages : 0;
}

BarMessage bar(int i, const std::string& symbol = "BTCUSDT") {
  BarMessage m;
  m.series = {"binance_futures", "1h", symbol};
  m.bar.ts = 1'735'689'600'000 + i * 3'600'000LL;
  m.bar.open = 100 + i;
  m.bar.high = 101 + i + 0.1;
  m.bar.low = 99 + i;
  m.bar.close = 100.5 + i;
  m.bar.volume = 10 * i + 0.3;
  m.bar.quote_volume = 1000.7 * i;
  m.bar.trades = 7 * i;
  m.bar.taker_buy_volume = 5.1 * i;
  m.bar.taker_buy_quote_volume = 500.3 * i;
  m.bar.origin = BarOrigin::kStream;
  return m;
}

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test_url().empty()) GTEST_SKIP() << "AF_TEST_NATS_URL is not set (scripts/test_servers.sh starts nats-server)";
    auto options = parse_bus_options(test_url());
    ASSERT_TRUE(options) << options.error().message;
    auto c = BusConnection::connect(*options);
    ASSERT_TRUE(c) << c.error().message;
    bus_ = std::move(*c);
    delete_stream(*bus_, kStream);
    delete_stream(*bus_, "AFTEST_OTHER");
  }
  void TearDown() override {
    if (!bus_) return;
    delete_stream(*bus_, kStream);
    delete_stream(*bus_, "AFTEST_OTHER");
  }
  StreamSpec bars_spec() const {
    StreamSpec s;
    s.name = kStream;
    s.subjects = {"af.bars.>"};
    s.max_age_ms = 30LL * 24 * 3600 * 1000;
    s.duplicate_window_ms = 10 * 60 * 1000;
    return s;
  }
  std::unique_ptr<BusConnection> bus_;
};

TEST_F(BusTest, StreamIsCreatedOnceThenFound) {
  auto created = ensure_stream(*bus_, bars_spec(), true);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->subjects, std::vector<std::string>{"af.bars.>"});
  EXPECT_EQ(created->max_age_ms, 30LL * 24 * 3600 * 1000);
  EXPECT_EQ(created->duplicate_window_ms, 10 * 60 * 1000);
  auto found = ensure_stream(*bus_, bars_spec(), true);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->created);
  EXPECT_TRUE(bus_->health().connected);
}

TEST_F(BusTest, AbsentStreamWithoutCreateIsAnError) {
  auto r = ensure_stream(*bus_, bars_spec(), false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "NATS stream AFTEST_BARS does not exist on " + test_url() +
                                   " (create it, or let this process create it)");
}

TEST_F(BusTest, ExistingStreamWhoseSubjectsDoNotFitIsAClearError) {
  StreamSpec other = bars_spec();
  other.subjects = {"aftest.other.>"};
  ASSERT_TRUE(ensure_stream(*bus_, other, true));
  StreamSpec wanted = bars_spec();
  wanted.name = other.name;
  auto r = ensure_stream(*bus_, wanted, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "NATS stream AFTEST_BARS on " + test_url() +
                                   " takes subjects [aftest.other.>], not af.bars.> (use another stream name, or add "
                                   "the subject to this stream)");
  EXPECT_FALSE(r.error().transient);
}

TEST_F(BusTest, SubjectsTakenByAnotherStreamAreRefusedByTheServer) {
  StreamSpec first = bars_spec();
  first.name = "AFTEST_OTHER";
  ASSERT_TRUE(ensure_stream(*bus_, first, true));
  auto r = ensure_stream(*bus_, bars_spec(), true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("NATS: create stream AFTEST_BARS [af.bars.>] on " + test_url() + ": ", 0), 0u)
      << r.error().message;
  EXPECT_NE(r.error().message.find("overlap"), std::string::npos) << r.error().message;
}

TEST_F(BusTest, RepublishedIdIsAckedAsDuplicateAndStoredOnce) {
  ASSERT_TRUE(ensure_stream(*bus_, bars_spec(), true));
  Publisher pub(*bus_, kStream);
  auto first = publish_bar(pub, bar(1));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->duplicate);
  auto second = publish_bar(pub, bar(2));
  ASSERT_TRUE(second) << second.error().message;
  auto again = publish_bar(pub, bar(1));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first->sequence);
  EXPECT_EQ(stream_messages(*bus_, kStream), 2u);
  const auto c = pub.counters();
  EXPECT_EQ(c.published, 3u);
  EXPECT_EQ(c.acked, 2u);
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.failed, 0u);

  BarDecoder decoder;
  auto last = last_bar(*bus_, kStream, bar(0).series, decoder);
  ASSERT_TRUE(last) << last.error().message;
  ASSERT_TRUE(last->has_value());
  EXPECT_TRUE((*last)->bar.same_values(bar(2).bar));
  auto none = last_bar(*bus_, kStream, bar(0, "ETHUSDT").series, decoder);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());
}

TEST_F(BusTest, PublishToASubjectOfAnotherStreamFails) {
  StreamSpec other = bars_spec();
  other.name = "AFTEST_OTHER";
  ASSERT_TRUE(ensure_stream(*bus_, other, true));
  Publisher pub(*bus_, kStream);  // expects AFTEST_BARS, which does not take af.bars.>
  auto r = publish_bar(pub, bar(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("NATS: publish binance_futures.1h.BTCUSDT.1735693200000 to "
                                    "af.bars.binance_futures.1h.BTCUSDT (stream AFTEST_BARS) on " + test_url(), 0),
            0u)
      << r.error().message;
  EXPECT_EQ(pub.counters().failed, 1u);
}

TEST(BusConnect, NoServerAtTheUrlIsAClearTransientErrorWithoutCredentials) {
  const int port = free_loopback_port();
  auto options = parse_bus_options("nats://alice:hunter2@127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(options);
  ConnectPolicy p;
  p.connect_timeout_ms = 500;
  auto r = BusConnection::connect(*options, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("NATS: connect to nats://***@127.0.0.1:" + std::to_string(port) +
                                        ": No server available for connection",
                                    0),
            0u)
      << r.error().message;
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);
  EXPECT_EQ(r.error().message.find("alice"), std::string::npos);
}

// The connection survives its server's restart: the health state follows, and a
// publish after the restart succeeds on the same connection.
TEST(BusConnect, ReconnectsAfterTheServerRestartsAndHealthFollows) {
  TempDir dir;
  NatsServer server(dir.path().string());
  if (!server.start()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh test)";
  auto options = parse_bus_options(server.url());
  ASSERT_TRUE(options);
  auto c = BusConnection::connect(*options);
  ASSERT_TRUE(c) << c.error().message;
  auto& bus = **c;
  StreamSpec spec;
  spec.name = kStream;
  spec.subjects = {"af.bars.>"};
  ASSERT_TRUE(ensure_stream(bus, spec, true));
  Publisher pub(bus, kStream);
  ASSERT_TRUE(publish_bar(pub, bar(1)));

  server.stop();
  ASSERT_TRUE(af::testing::wait_until([&] { return !bus.health().connected; }, std::chrono::seconds(10)));
  EXPECT_GT(bus.health().disconnected_since_ms, 0);
  auto down = publish_bar(pub, bar(2));
  ASSERT_FALSE(down);
  EXPECT_TRUE(down.error().transient) << down.error().message;

  ASSERT_TRUE(server.start());
  ASSERT_TRUE(af::testing::wait_until([&] { return bus.health().connected; }, std::chrono::seconds(10)));
  EXPECT_EQ(bus.health().disconnected_since_ms, 0);
  EXPECT_EQ(bus.health().reconnects, 1u);
  // bar 2 may have reached the server from the reconnect buffer: new or duplicate, once.
  auto up = publish_bar(pub, bar(2));
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(describe_stream(bus, kStream)->messages, 2u);
}

// A 3-node cluster (scripts/nats_cluster.sh), a stream with 3 replicas: the node
// the client is connected to is killed mid-run; the client reconnects to another
// member, publishing goes on (transient failures retried with the same ids), and
// the stream holds every bar once.
TEST(BusCluster, NodeKilledMidRunEveryBarOnce) {
  if (af::testing::nats_server_binary().empty()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh test)";
  const char* src = std::getenv("AF_SOURCE_DIR");
  ASSERT_TRUE(src) << "AF_SOURCE_DIR is set by ctest";
  TempDir dir;
  const std::string script = "bash " + std::string(src) + "/scripts/nats_cluster.sh ";
  auto started = af::testing::run_command(script + "start " + dir.path().string());
  struct Stop {
    std::string cmd;
    ~Stop() { af::testing::run_command(cmd); }
  } stop{script + "stop " + dir.path().string()};
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  std::string urls = started.out;
  while (!urls.empty() && urls.back() == '\n') urls.pop_back();
  auto options = parse_bus_options(urls);
  ASSERT_TRUE(options) << options.error().message;
  ConnectPolicy policy;
  policy.request_timeout_ms = 2000;
  auto c = BusConnection::connect(*options, policy);
  ASSERT_TRUE(c) << c.error().message;
  auto& bus = **c;
  StreamSpec spec;
  spec.name = kStream;
  spec.subjects = {"af.bars.>"};
  spec.replicas = 3;
  // A cluster that has just formed may still be electing its meta leader.
  Result<StreamDescription> created = make_error("not tried");
  ASSERT_TRUE(af::testing::wait_until([&] { return (created = ensure_stream(bus, spec, true)).ok(); },
                                      std::chrono::seconds(20)))
      << created.error().message;
  EXPECT_EQ(created->replicas, 3);
  Publisher pub(bus, kStream);
  auto publish_retrying = [&](int i) {
    for (int attempt = 0; attempt < 40; ++attempt) {
      auto r = publish_bar(pub, bar(i));
      if (r) return true;
      EXPECT_TRUE(r.error().transient) << r.error().message;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  };
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(publish_retrying(i));

  char url[256] = {0};
  natsConnection_GetConnectedUrl(bus.connection(), url, sizeof url);
  int victim = 0;
  for (int n = 0; n < 3; ++n) {
    if (options->servers[n] == url) victim = n + 1;
  }
  ASSERT_GT(victim, 0) << "connected to " << url << ", not one of " << urls;
  ASSERT_EQ(af::testing::run_command(script + "kill-node " + std::to_string(victim) + " " + dir.path().string()).exit_code, 0);
  for (int i = 20; i < 40; ++i) ASSERT_TRUE(publish_retrying(i)) << "bar " << i;
  EXPECT_GE(bus.health().reconnects, 1u);
  natsConnection_GetConnectedUrl(bus.connection(), url, sizeof url);
  EXPECT_NE(std::string(url), options->servers[victim - 1]);
  auto restarted = af::testing::run_command(script + "start-node " + std::to_string(victim) + " " + dir.path().string());
  EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
  auto d = describe_stream(bus, kStream);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->messages, 40u);
}

}  // namespace
}  // namespace af::nats
