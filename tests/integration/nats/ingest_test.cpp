// End to end: `alpha_forge ingest` against the simulated exchange (faults on)
// publishes to a nats-server of the test's own; the stream must hold every bar of
// each symbol from A - retention to the newest exactly once, without a gap, each
// equal to the exchange's archive, through a SIGTERM drain and a kill -9 + restart.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <thread>

#include "common/time.hpp"
#include "nats/bar_codec.hpp"
#include "nats/bus_connection.hpp"
#include "runtime/warmup.hpp"
#include "sim/fault_spec.hpp"
#include "sim/sim_exchange.hpp"
#include "stream_reader.hpp"
#include "support/child_process.hpp"
#include "support/nats_server.hpp"
#include "vision/vision_archive.hpp"

namespace af::nats {
namespace {

using af::testing::ChildProcess;
using af::testing::NatsServer;
using af::testing::run_command;
using af::testing::TempDir;
using af::testing::wait_until;
using af::testing::write_file;
using namespace std::chrono_literals;

const std::string kBinary = AF_BINARY;
const std::vector<std::string> kSymbols{"BTCUSDT", "ETHUSDT"};
constexpr int64_t kMinute = 60'000;
constexpr int kLookbackDays = 2;

std::string pipeline_yaml() {
  return "name: bus_ingest\n"
         "signal_generation:\n"
         "  mode: stream\n"
         "  warmup:\n"
         "    lookback_days: " + std::to_string(kLookbackDays) + "\n"
         "  scheduling:\n"
         "    interval: 1m\n"
         "    buffer_minutes: 1\n"
         "  on_prediction:\n"
         "    - using: sinks.csv_append\n"
         "      params: {path: unused.csv}\n"
         "pipeline:\n"
         "  - data:\n"
         "      using: data.binance_futures\n"
         "      outputs: {frame: ohlcv}\n"
         "      params: {universe: [BTCUSDT, ETHUSDT], interval: 1m}\n"
         "  - features:\n"
         "      using: features.momentum\n"
         "      inputs: {column: ohlcv.close}\n"
         "      outputs: {columns: [mom_10]}\n"
         "      params: {window: 10}\n"
         "  - model:\n"
         "      using: models.linear\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params: {features: [mom_10], weights: [1.0], bias: 0.0}\n";
}

// A bar as the archive has it. Archive bars must be equal bit for bit; a bar that
// came over REST or the WebSocket carries the exchange's text, whose quote volumes
// the simulated exchange writes with the symbol's tick + lot decimals
// (docs/sim_exchange.md), fewer than the synthetic archive has: those two fields
// agree to that rounding, every other field exactly.
bool equal_to_archive(const Bar& got, const Bar& archive) {
  if (got.origin == BarOrigin::kArchive) return got.same_values(archive);
  auto rounded_equal = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)) + 5e-3; };
  return got.ts == archive.ts && got.open == archive.open && got.high == archive.high && got.low == archive.low &&
         got.close == archive.close && got.volume == archive.volume && got.trades == archive.trades &&
         got.taker_buy_volume == archive.taker_buy_volume &&
         rounded_equal(got.quote_volume, archive.quote_volume) &&
         rounded_equal(got.taker_buy_quote_volume, archive.taker_buy_quote_volume);
}

// What the stream holds for one symbol: ts -> bar, and how many messages came twice.
struct Held {
  std::map<int64_t, Bar> bars;
  size_t duplicates = 0;
  size_t undecodable = 0;
};

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (af::testing::nats_server_binary().empty()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh test)";
    nats_ = std::make_unique<NatsServer>(dir_ / "nats");
    ASSERT_TRUE(nats_->start());
  }
  void TearDown() override {
    if (exchange_) exchange_->stop();
  }

  void start_exchange(const std::string& faults) {
    auto gen = run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                           " --symbols BTCUSDT,ETHUSDT --interval 1m --from 2024-01-01 --to 2024-01-20");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    sim::SimExchangeOptions so;
    so.data_dir = dir_ / "mirror";
    so.start_ms = parse_iso8601("2024-01-10T00:07:00Z");
    so.speed = 600;
    auto f = sim::parse_fault_spec(faults);
    ASSERT_TRUE(f) << f.error().message;
    so.faults = *f;
    exchange_ = std::make_unique<sim::SimExchange>(so);
    auto started = exchange_->start(0);
    ASSERT_TRUE(started) << started.error().message;
    base_ = "127.0.0.1:" + std::to_string(exchange_->port());
    write_file(dir_.path() / "p.yaml", pipeline_yaml());
  }

  std::unique_ptr<ChildProcess> start_ingest(const std::string& tag, const std::vector<std::string>& extra = {},
                                             const std::string& state = "state") {
    std::vector<std::string> argv{kBinary, "--log-level", "info", "ingest", dir_ / "p.yaml", "--bus", nats_->url(),
                                  "--state-dir", dir_ / state, "--anchor-timeout", "20",
                                  "--binance-ws-url", "ws://" + base_ + "/market/stream",
                                  "--binance-rest-url", "http://" + base_, "--binance-vision-url", "http://" + base_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(argv, dir_ / (tag + ".out"), dir_ / (tag + ".err"));
  }

  std::map<std::string, Held> held() {
    std::map<std::string, Held> out;
    auto o = parse_bus_options(nats_->url());
    auto bus = BusConnection::connect(*o);
    EXPECT_TRUE(bus) << bus.error().message;
    if (!bus) return out;
    BarDecoder d;
    for (const auto& m : testing::read_stream(**bus, "AF_BARS")) {
      auto bar = d.decode(m.payload);
      if (!bar) {
        ++out["?"].undecodable;
        continue;
      }
      Held& h = out[bar->series.symbol];
      EXPECT_EQ(m.subject, bar_subject(bar->series));
      EXPECT_EQ(m.msg_id, bar_msg_id(bar->series, bar->bar.ts));
      if (!h.bars.emplace(bar->bar.ts, bar->bar).second) ++h.duplicates;
    }
    return out;
  }

  // The newest ts the stream holds for every symbol (the oldest of those), 0 if none.
  int64_t newest_everywhere() {
    auto h = held();
    int64_t newest = std::numeric_limits<int64_t>::max();
    for (const auto& s : kSymbols) {
      if (h[s].bars.empty()) return 0;
      newest = std::min(newest, h[s].bars.rbegin()->first);
    }
    return newest;
  }

  std::map<int64_t, Bar> mirror(const std::string& symbol) {
    std::map<int64_t, Bar> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "mirror")) {
      const std::string p = e.path().string();
      if (e.path().extension() != ".zip" || p.find("/" + symbol + "/1m/") == std::string::npos) continue;
      auto bars = vision::read_vision_archive(p);
      EXPECT_TRUE(bars) << bars.error().message;
      if (bars) {
        for (const auto& b : *bars) out[b.ts] = b;
      }
    }
    return out;
  }

  // Every symbol: exactly once, from `first` without a gap to its newest, equal to the archive.
  void expect_every_bar_once(int64_t first) {
    auto h = held();
    EXPECT_EQ(h.count("?"), 0u) << "undecodable messages in the stream";
    for (const auto& s : kSymbols) {
      const Held& x = h[s];
      ASSERT_FALSE(x.bars.empty()) << s;
      EXPECT_EQ(x.duplicates, 0u) << s << ": a bar stored twice";
      EXPECT_EQ(x.bars.begin()->first, first) << s << ": history should start at A - retention";
      const int64_t last = x.bars.rbegin()->first;
      EXPECT_EQ(static_cast<int64_t>(x.bars.size()), (last - first) / kMinute + 1) << s << ": a gap";
      const auto archive = mirror(s);
      size_t compared = 0;
      for (const auto& [ts, bar] : x.bars) {
        auto it = archive.find(ts);
        ASSERT_NE(it, archive.end()) << s << " " << format_iso8601(ts) << " is not in the archive";
        EXPECT_TRUE(equal_to_archive(bar, it->second))
            << s << " " << format_iso8601(ts) << " (" << bar_origin_name(bar.origin) << ") differs from the archive: "
            << *encode_bar({{"x", "1m", s}, bar}) << " vs " << *encode_bar({{"x", "1m", s}, it->second});
        ++compared;
      }
      EXPECT_GT(compared, static_cast<size_t>(kLookbackDays * 1440));
    }
  }

  // "http://127.0.0.1:P" from the "metrics http://127.0.0.1:P/metrics" line, once printed.
  static std::string metrics_url(ChildProcess& p) {
    std::smatch m;
    const std::regex re("metrics (http://127\\.0\\.0\\.1:[0-9]+)/metrics");
    std::string out;
    wait_until([&] {
      out = p.out();
      return std::regex_search(out, m, re);
    }, 10s);
    return std::regex_search(out, m, re) ? m[1].str() : "";
  }

  static int64_t anchor_of(const std::string& out) {
    std::smatch m;
    const std::regex re("Ingest completed: anchor=(\\S+)");
    if (!std::regex_search(out, m, re)) return 0;
    return parse_iso8601(m[1].str()).value_or(0);
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<sim::SimExchange> exchange_;
  std::string base_;
};

TEST_F(IngestTest, EveryFaultOnStreamHoldsEveryBarOnceEqualToTheArchive) {
  start_exchange("all,seed=5");
  ASSERT_FALSE(HasFatalFailure());
  auto p = start_ingest("ingest", {"--metrics-port", "0"});
  // Up to about 40 live bars past the anchor (1m bars at speed 600: 10 a second).
  const int64_t target = *parse_iso8601("2024-01-10T00:45:00Z");
  ASSERT_TRUE(wait_until([&] { return newest_everywhere() >= target || !p->running(); }, 120s)) << p->err();
  ASSERT_TRUE(p->running()) << p->err();
  const std::string metrics = metrics_url(*p);
  const std::string scrape = run_command("curl -s " + metrics + "/metrics").out;
  EXPECT_NE(scrape.find("af_bus_connected 1"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("af_ingest_bars_total{kind=\"live\"}"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("af_bus_stored_total "), std::string::npos) << scrape;
  EXPECT_EQ(run_command("curl -s " + metrics + "/healthz").out, "ok\n");
  p->signal(SIGTERM);
  ASSERT_EQ(p->wait(60s), 0) << p->err();
  ASSERT_NE(p->out().find("Ingest completed"), std::string::npos) << p->out();
  const int64_t anchor = anchor_of(p->out());
  ASSERT_GT(anchor, 0) << p->out();
  expect_every_bar_once(history_start_for(anchor, kLookbackDays, kMinute));
  EXPECT_GT(exchange_->stats().disconnects + exchange_->stats().missing_closes + exchange_->stats().rest_429, 0u);
}

TEST_F(IngestTest, KillNineAndRestartLeavesNoGapAndNothingTwice) {
  start_exchange("disconnect=0.01,duplicate=0.05,late_close=0.05,missing_close=0.05,seed=11");
  ASSERT_FALSE(HasFatalFailure());
  auto first = start_ingest("first");
  const int64_t t1 = *parse_iso8601("2024-01-10T00:30:00Z");
  ASSERT_TRUE(wait_until([&] { return newest_everywhere() >= t1 || !first->running(); }, 120s)) << first->err();
  ASSERT_TRUE(first->running()) << first->err();
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(30s), 128 + SIGKILL);
  const auto at_kill = held();
  const int64_t first_ts = at_kill.at("BTCUSDT").bars.begin()->first;
  // Down for a while: the exchange moves on (about 30 bars of 1m at speed 600).
  std::this_thread::sleep_for(3s);

  auto second = start_ingest("second");
  const int64_t t2 = newest_everywhere() + 60 * kMinute;
  ASSERT_TRUE(wait_until([&] { return newest_everywhere() >= t2 || !second->running(); }, 120s)) << second->err();
  ASSERT_TRUE(second->running()) << second->err();
  second->signal(SIGTERM);
  ASSERT_EQ(second->wait(60s), 0) << second->err();
  EXPECT_NE(second->out().find("resumed_symbols=2"), std::string::npos) << second->out();
  EXPECT_NE(second->err().find("resume symbol=BTCUSDT after="), std::string::npos) << second->err();
  expect_every_bar_once(first_ts);
}

// Active/standby: two ingests of the same universe publish the same ids; the
// server stores each bar once and acks the other copy as a duplicate.
TEST_F(IngestTest, TwoIngestsPublishTheSameIdsStoredOnce) {
  start_exchange("duplicate=0.05,late_close=0.05,seed=3");
  ASSERT_FALSE(HasFatalFailure());
  auto a = start_ingest("a", {}, "state_a");
  auto b = start_ingest("b", {}, "state_b");
  const int64_t target = *parse_iso8601("2024-01-10T00:40:00Z");
  ASSERT_TRUE(wait_until([&] { return newest_everywhere() >= target || !a->running() || !b->running(); }, 120s))
      << a->err() << b->err();
  for (auto* p : {a.get(), b.get()}) {
    ASSERT_TRUE(p->running()) << p->err();
    p->signal(SIGTERM);
    ASSERT_EQ(p->wait(60s), 0) << p->err();
  }
  std::smatch m;
  uint64_t duplicates = 0;
  for (auto* p : {a.get(), b.get()}) {
    const std::string out = p->out();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("duplicates=([0-9]+)"))) << out;
    duplicates += std::stoull(m[1].str());
  }
  EXPECT_GT(duplicates, 1000u) << "the second copy of the history should be refused as duplicates";
  const auto h = held();
  expect_every_bar_once(h.at("BTCUSDT").bars.begin()->first);
}

// Bad input, refused before anything runs (exit 2), and a bus with no server
// behind it: named (redacted) in the log and retried until a signal stops it.
TEST_F(IngestTest, RefusalsAndNoServerAtTheUrl) {
  write_file(dir_.path() / "p.yaml", pipeline_yaml());
  auto short_retention = run_command(kBinary + " ingest " + (dir_ / "p.yaml") + " --bus " + nats_->url() +
                                     " --bus-retention 1");
  EXPECT_EQ(short_retention.exit_code, 2);
  EXPECT_NE(short_retention.err.find("error: ingest: --bus-retention 1 days does not cover the pipeline's lookback of "
                                     "2 days (" + (dir_ / "p.yaml") + ": signal_generation.warmup.lookback_days): a "
                                     "shard could not warm up from the stream"),
            std::string::npos)
      << short_retention.err;
  auto bad_bus = run_command(kBinary + " ingest " + (dir_ / "p.yaml") + " --bus nats://alice:hunter2@127.0.0.1:0");
  EXPECT_EQ(bad_bus.exit_code, 2);
  EXPECT_NE(bad_bus.err.find("error: --bus: URL 1 (nats://***@127.0.0.1:0): port '0' is not a number in 1..65535"),
            std::string::npos)
      << bad_bus.err;
  EXPECT_EQ(bad_bus.err.find("hunter2"), std::string::npos);
  // --shard: the same rule as signal's; BTCUSDT and ETHUSDT are both on shard 1 of 2.
  auto empty_shard = run_command(kBinary + " ingest " + (dir_ / "p.yaml") + " --bus " + nats_->url() + " --shard 2/2");
  EXPECT_EQ(empty_shard.exit_code, 2);
  EXPECT_NE(empty_shard.err.find("shard 2/2 owns none of the pipeline's 2 symbols (BTCUSDT on shard 1, ETHUSDT on "
                                 "shard 1)"),
            std::string::npos)
      << empty_shard.err;

  const int port = af::testing::free_loopback_port();
  ChildProcess p({kBinary, "ingest", dir_ / "p.yaml", "--bus", "nats://alice:hunter2@127.0.0.1:" + std::to_string(port),
                  "--metrics-port", "0", "--bus-unhealthy-after", "1"},
                 dir_ / "noserver.out", dir_ / "noserver.err");
  const std::string expected = "NATS: connect to nats://***@127.0.0.1:" + std::to_string(port) +
                               ": No server available for connection";
  ASSERT_TRUE(wait_until([&] { return p.err().find("retrying in 200 ms") != std::string::npos || !p.running(); }, 30s))
      << p.err();
  EXPECT_NE(p.err().find(expected + "; retrying in 100 ms"), std::string::npos) << p.err();
  EXPECT_EQ(p.err().find("hunter2"), std::string::npos) << p.err();
  // /healthz turns unhealthy once the bus has been unreachable past the bound, naming it redacted.
  const std::string metrics = metrics_url(p);
  ASSERT_FALSE(metrics.empty()) << p.out();
  std::string health;
  ASSERT_TRUE(wait_until([&] {
    health = run_command("curl -s " + metrics + "/healthz").out;
    return health.find("unreachable") != std::string::npos;
  }, 10s)) << health;
  EXPECT_EQ(health.rfind("bus nats://***@127.0.0.1:" + std::to_string(port) + " unreachable for ", 0), 0u) << health;
  EXPECT_NE(run_command("curl -s " + metrics + "/metrics").out.find("af_bus_connected 0"), std::string::npos);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(30s), 0) << p.err();
  EXPECT_NE(p.out().find("Ingest completed: anchor=none"), std::string::npos) << p.out();
}

}  // namespace
}  // namespace af::nats
