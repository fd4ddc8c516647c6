// /healthz of `alpha_forge ingest` and `alpha_forge signal --bus` while the bus
// goes away and comes back (issue 14, operations): a real nats-server that the
// test stops and starts again on the same port and store, the simulated exchange
// feeding ingest. Both turn unhealthy once the bus has been unreachable longer
// than --bus-unhealthy-after, naming the bus with its credentials hidden, and
// healthy again once it is back; the shard's predictions go on.

#include <gtest/gtest.h>

#include <chrono>

#include "support/nats_server.hpp"
#include "support/signal_scenario.hpp"

namespace af {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::csv_rows;
using testing::kAlphaForge;
using testing::run_command;
using testing::SimMarket;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

constexpr int kUnhealthyAfterS = 2;

struct Health {
  int code = 0;
  std::string body;
};

Health healthz(const std::string& base) {
  const auto r = run_command("curl -s -m 5 -w '\\n%{http_code}' " + base + "/healthz");
  const auto nl = r.out.rfind('\n');
  if (nl == std::string::npos) return {};
  return {std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl)};
}

TEST(BusHealthTest, HealthzTurnsUnhealthyPastTheBoundAndHealthyWhenTheBusIsBack) {
  if (testing::nats_server_binary().empty()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh)";
  TempDir dir;
  testing::NatsServer nats(dir / "nats");
  ASSERT_TRUE(nats.start());
  SimMarket market;
  testing::SimMarketOptions mo;
  mo.from = "2024-01-08";
  mo.to = "2024-01-12";
  ASSERT_EQ(market.start(dir.path().string(), mo), "");
  const std::string csv = dir / "live.csv";
  write_file(dir / "p.yaml", testing::rsi_linear_pipeline("bus_health", csv));
  // The server takes any credentials (it has no users): they must show nowhere.
  const std::string port = std::to_string(nats.port());
  const std::string bus = "nats://alice:s3cret@127.0.0.1:" + port;
  const std::string hidden = "nats://***@127.0.0.1:" + port;
  const std::vector<std::string> health_flags{"--metrics-port", "0", "--bus-unhealthy-after",
                                              std::to_string(kUnhealthyAfterS)};

  std::vector<std::string> ingest_argv{kAlphaForge, "--log-level", "info", "ingest", dir / "p.yaml", "--bus", bus,
                                       "--anchor-timeout", "30"};
  for (const auto& f : market.binance_flags()) ingest_argv.push_back(f);
  ingest_argv.insert(ingest_argv.end(), health_flags.begin(), health_flags.end());
  ChildProcess ingest(ingest_argv, dir / "ingest.out", dir / "ingest.err");
  ASSERT_TRUE(wait_until([&] { return ingest.err().find("history published") != std::string::npos || !ingest.running(); },
                         60s))
      << ingest.err();
  std::vector<std::string> signal_argv{kAlphaForge, "--log-level", "info", "signal", dir / "p.yaml", "--bus", bus,
                                       "--anchor-timeout", "60"};
  signal_argv.insert(signal_argv.end(), health_flags.begin(), health_flags.end());
  ChildProcess shard(signal_argv, dir / "signal.out", dir / "signal.err",
                     {"ALPHA_FORGE_BINANCE_BASE_URL=http://127.0.0.1:1"});
  ASSERT_TRUE(testing::wait_for_predictions(shard, csv, 10)) << shard.err();

  const std::string ingest_url = testing::wait_metrics_url(ingest);
  const std::string shard_url = testing::wait_metrics_url(shard);
  ASSERT_FALSE(ingest_url.empty()) << ingest.out();
  ASSERT_FALSE(shard_url.empty()) << shard.out();
  struct Service {
    const char* name;
    ChildProcess& process;
    std::string url;
  };
  Service services[] = {{"ingest", ingest, ingest_url}, {"signal --bus", shard, shard_url}};
  for (auto& s : services) {
    Health h;
    ASSERT_TRUE(wait_until([&] { return (h = healthz(s.url)).code == 200; }, 30s)) << s.name << ": " << h.body;
    EXPECT_EQ(h.body, "ok\n") << s.name;
  }

  // The bus goes away: unhealthy once unreachable past the bound (the reason's
  // seconds are at least the bound), naming the bus redacted.
  nats.stop();
  for (auto& s : services) {
    Health h;
    ASSERT_TRUE(wait_until([&] { return (h = healthz(s.url)).code == 503 || !s.process.running(); }, 30s))
        << s.name << ": " << h.code << " " << h.body << "\n" << s.process.err();
    ASSERT_TRUE(s.process.running()) << s.name << " gave up while the bus was down\n" << s.process.err();
    const std::string prefix = "bus " + hidden + " unreachable for ";
    ASSERT_EQ(h.body.rfind(prefix, 0), 0u) << s.name << ": " << h.body;
    EXPECT_GE(std::atoi(h.body.c_str() + prefix.size()), kUnhealthyAfterS)
        << s.name << ": unhealthy before the bound: " << h.body;
  }
  const std::string scrape = run_command("curl -s -m 5 " + shard_url + "/metrics").out;
  EXPECT_EQ(testing::metric_sum(scrape, "af_bus_connected"), 0) << scrape;

  // Back: healthy again, and the shard predicts on.
  const size_t rows_before = csv_rows(csv);
  ASSERT_TRUE(nats.start());
  for (auto& s : services) {
    Health h;
    ASSERT_TRUE(wait_until([&] { return (h = healthz(s.url)).code == 200 || !s.process.running(); }, 60s))
        << s.name << ": " << h.code << " " << h.body << "\n" << s.process.err();
    EXPECT_EQ(h.body, "ok\n") << s.name;
  }
  EXPECT_TRUE(wait_until([&] { return csv_rows(csv) >= rows_before + 10 || !shard.running(); }, 60s))
      << "no prediction after the bus came back\n" << shard.err();
  EXPECT_EQ(testing::metric_sum(run_command("curl -s -m 5 " + shard_url + "/metrics").out, "af_bus_connected"), 1);

  for (auto& s : services) {
    s.process.signal(SIGTERM);
    EXPECT_EQ(s.process.wait(60s), 0) << s.name << "\n" << s.process.err();
    for (const std::string& text : {s.process.out(), s.process.err()}) {
      EXPECT_EQ(text.find("s3cret"), std::string::npos) << s.name << " logged the bus password";
    }
    EXPECT_NE(s.process.err().find(hidden), std::string::npos) << s.name << " names the bus redacted";
  }
}

}  // namespace
}  // namespace af
