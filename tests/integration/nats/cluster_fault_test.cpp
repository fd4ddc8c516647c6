// Fault tolerance of the bus end to end (issue 14): a 3-node JetStream cluster
// (scripts/nats_cluster.sh, stream replicas 3), the simulated exchange serving a
// synthetic mirror, one `alpha_forge ingest` and two `alpha_forge signal --bus
// --shard 1/2|2/2`, each shard with a CSV sink. During one live run, in sequence:
// a NATS node is killed (kill -9) and started again; ingest is killed and started
// again; a shard is killed and started again; the whole cluster is stopped for 10 s
// and started again. Afterwards the union of the shards' CSVs must equal `replay`
// over the same mirror: every (ts, symbol) once, none missing, values equal.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "support/nats_cluster.hpp"
#include "support/signal_scenario.hpp"

namespace af {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::csv_rows;
using testing::CsvPredictions;
using testing::kAlphaForge;
using testing::read_csv_predictions;
using testing::run_command;
using testing::SimMarket;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

const std::string kPipelineName = "cluster_fault";
const std::string kUniverse = "BTCUSDT, ETHUSDT, SOLUSDT";
// FNV-1a 64 modulo 2 (docs/scale-out.md): BTCUSDT and ETHUSDT on shard 1, SOLUSDT on 2.
int shard_of(const std::string& symbol) { return symbol == "SOLUSDT" ? 2 : 1; }
// Every wait for the run to move on after a fault is bounded by this.
constexpr auto kRecover = 60s;

std::string tail(const std::string& text, size_t n = 4000) {
  return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

class ClusterFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::nats_server_binary().empty()) GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh)";
    cluster_ = std::make_unique<testing::NatsCluster>(std::string(AF_SOURCE_DIR) + "/scripts/nats_cluster.sh",
                                                      dir_ / "cluster");
    ASSERT_EQ(cluster_->start(), "");
    testing::SimMarketOptions mo;
    mo.symbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};
    mo.from = "2024-01-08";
    mo.to = "2024-01-12";
    ASSERT_EQ(market_.start(dir_.path().string(), mo), "");
    for (int k = 1; k <= 2; ++k) {
      write_file(pipeline(k), testing::rsi_linear_pipeline(kPipelineName, csv(k), kUniverse));
    }
  }

  // AF_CLUSTER_TEST_KEEP=DIR keeps a failed run's folder (logs, stores, CSVs) there.
  void TearDown() override {
    const char* keep = std::getenv("AF_CLUSTER_TEST_KEEP");
    if (!HasFailure() || !keep || !*keep) return;
    for (auto& s : shard_) s.reset();
    ingest_.reset();
    std::error_code ec;
    std::filesystem::copy(dir_.path(), keep, std::filesystem::copy_options::recursive, ec);
  }

  std::string pipeline(int k) const { return dir_ / ("shard" + std::to_string(k) + ".yaml"); }
  std::string csv(int k) const { return dir_ / ("shard" + std::to_string(k) + ".csv"); }

  std::unique_ptr<ChildProcess> start_ingest(const std::string& tag) {
    std::vector<std::string> argv{kAlphaForge, "--log-level", "info", "ingest", pipeline(1), "--bus", cluster_->urls(),
                                  "--bus-replicas", "3", "--state-dir", dir_ / "ingest_state", "--anchor-timeout",
                                  "30"};
    for (const auto& f : market_.binance_flags()) argv.push_back(f);
    return std::make_unique<ChildProcess>(argv, dir_ / (tag + ".out"), dir_ / (tag + ".err"));
  }

  // Shard k of 2; nothing listens at the exchange URL it is given: a contact with
  // the exchange would fail the run.
  std::unique_ptr<ChildProcess> start_shard(int k, const std::string& tag) {
    std::vector<std::string> argv{kAlphaForge, "--log-level", "info", "signal", pipeline(k), "--bus", cluster_->urls(),
                                  "--shard", std::to_string(k) + "/2", "--state-dir",
                                  dir_ / ("state" + std::to_string(k)), "--snapshot-every", "1", "--anchor-timeout",
                                  "60"};
    return std::make_unique<ChildProcess>(argv, dir_ / (tag + ".out"), dir_ / (tag + ".err"),
                                          std::vector<std::string>{"ALPHA_FORGE_BINANCE_BASE_URL=http://127.0.0.1:1"});
  }

  bool all_running() const { return ingest_->running() && shard_[0]->running() && shard_[1]->running(); }

  // Waits until shard 1 wrote 2n more rows (two symbols) and shard 2 n more.
  bool advance(size_t n) {
    const size_t r1 = csv_rows(csv(1)), r2 = csv_rows(csv(2));
    wait_until([&] { return (csv_rows(csv(1)) >= r1 + 2 * n && csv_rows(csv(2)) >= r2 + n) || !all_running(); },
               kRecover);
    return all_running() && csv_rows(csv(1)) >= r1 + 2 * n && csv_rows(csv(2)) >= r2 + n;
  }

  std::string diagnostics() const {
    std::string out = "rows: shard1 " + std::to_string(csv_rows(csv(1))) + ", shard2 " +
                      std::to_string(csv_rows(csv(2))) + "\n";
    if (ingest_) out += "--- ingest stderr\n" + tail(ingest_->err()) + "\n";
    for (int k = 0; k < 2; ++k) {
      if (shard_[k]) out += "--- shard " + std::to_string(k + 1) + " stderr\n" + tail(shard_[k]->err()) + "\n";
    }
    return out + cluster_->logs();
  }

  // The anchor the shard's log names ("signal NAME: anchor=...").
  static std::string logged_anchor(const std::string& err) {
    std::smatch m;
    return std::regex_search(err, m, std::regex("signal " + kPipelineName + ": anchor=(\\S+)")) ? m[1].str() : "";
  }

  void stop_cleanly(ChildProcess& p, const std::string& done) {
    p.signal(SIGTERM);
    ASSERT_EQ(p.wait(60s), 0) << p.err();
    ASSERT_NE(p.out().find(done), std::string::npos) << p.out();
  }

  TempDir dir_;
  std::unique_ptr<testing::NatsCluster> cluster_;
  SimMarket market_;
  std::unique_ptr<ChildProcess> ingest_;
  std::unique_ptr<ChildProcess> shard_[2];
};

TEST_F(ClusterFaultTest, ShardsEqualReplayThroughNodeIngestShardAndClusterFaults) {
  // Ingest first, until its history is in the stream: the shards then anchor on a live bar.
  ingest_ = start_ingest("ingest1");
  ASSERT_TRUE(wait_until([&] { return ingest_->err().find("history published") != std::string::npos ||
                                      !ingest_->running(); },
                         kRecover))
      << diagnostics();
  for (int k = 1; k <= 2; ++k) shard_[k - 1] = start_shard(k, "shard" + std::to_string(k) + "_run1");
  ASSERT_TRUE(advance(20)) << "the run did not start\n" << diagnostics();
  std::string anchor[2];
  for (int k = 0; k < 2; ++k) {
    anchor[k] = logged_anchor(shard_[k]->err());
    ASSERT_FALSE(anchor[k].empty()) << shard_[k]->err();
  }

  // 1. A node crashes and comes back; the other two keep the stream (replicas 3, quorum 2).
  ASSERT_TRUE(cluster_->kill_node(1));
  ASSERT_TRUE(advance(20)) << "after node 1 was killed\n" << diagnostics();
  ASSERT_TRUE(cluster_->start_node(1)) << cluster_->logs();
  ASSERT_TRUE(advance(20)) << "after node 1 came back\n" << diagnostics();

  // 2. Ingest crashes; the exchange moves on meanwhile; the next start resumes after
  // the newest bar the stream holds.
  ingest_->signal(SIGKILL);
  ASSERT_EQ(ingest_->wait(30s), 128 + SIGKILL);
  std::this_thread::sleep_for(2s);
  ingest_ = start_ingest("ingest2");
  ASSERT_TRUE(advance(20)) << "after ingest restarted\n" << diagnostics();

  // 3. Shard 1 crashes and restarts from its snapshot on the same state directory.
  shard_[0]->signal(SIGKILL);
  ASSERT_EQ(shard_[0]->wait(30s), 128 + SIGKILL);
  std::this_thread::sleep_for(1s);
  shard_[0] = start_shard(1, "shard1_run2");
  ASSERT_TRUE(advance(20)) << "after shard 1 restarted\n" << diagnostics();

  // 4. The whole cluster down for 10 s, then back.
  ASSERT_TRUE(cluster_->stop_all());
  std::this_thread::sleep_for(10s);
  ASSERT_TRUE(all_running()) << "a process gave up while the bus was down\n" << diagnostics();
  ASSERT_TRUE(cluster_->start_all()) << cluster_->logs();
  ASSERT_TRUE(advance(20)) << "after the cluster came back\n" << diagnostics();

  for (auto& s : shard_) stop_cleanly(*s, "Signal generation completed: anchor=");
  stop_cleanly(*ingest_, "Ingest completed");
  EXPECT_NE(shard_[0]->out().find("restored=1"), std::string::npos) << shard_[0]->out();
  EXPECT_EQ(testing::anchor_of(shard_[0]->out()), anchor[0]) << "the restarted shard kept its anchor";
  EXPECT_NE(ingest_->out().find("resumed_symbols=3"), std::string::npos) << ingest_->out();

  // The union of the shards' predictions, each (ts, symbol) once, each on its shard.
  CsvPredictions all;
  for (int k = 1; k <= 2; ++k) {
    const CsvPredictions p = read_csv_predictions(csv(k));
    EXPECT_EQ(p.duplicates, 0u) << "shard " << k << " wrote a (ts, symbol) twice";
    for (const auto& [key, v] : p.rows) {
      EXPECT_EQ(shard_of(key.second), k) << "shard " << k << " computed " << key.second;
      if (!all.rows.emplace(key, v).second) ++all.duplicates;
    }
  }
  ASSERT_EQ(all.duplicates, 0u);
  std::map<std::string, std::string> newest;  // per symbol: the live run stopped at some bar
  for (const auto& [key, v] : all.rows) newest[key.second] = std::max(newest[key.second], key.first);
  ASSERT_EQ(newest.size(), 3u) << "every symbol has predictions";
  std::string last;
  for (const auto& [symbol, ts] : newest) last = std::max(last, ts);
  const std::string to = format_iso8601(*parse_iso8601(last) + kMinuteMs);

  // The reference: one unsharded replay over the same mirror from a shard's anchor
  // (a feature's state depends on where its warmup started: one replay per anchor).
  std::map<std::pair<std::string, std::string>, std::string> expected;
  for (const std::string& a : std::set<std::string>{anchor[0], anchor[1]}) {
    const std::string ref_csv = dir_ / ("replay_" + std::to_string(expected.size()) + ".csv");
    write_file(dir_ / "replay.yaml", testing::rsi_linear_pipeline(kPipelineName, ref_csv, kUniverse));
    auto r = run_command(kAlphaForge + " replay " + (dir_ / "replay.yaml") + " --data " + (dir_ / "mirror") +
                         " --from " + a + " --to " + to);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& [key, v] : read_csv_predictions(ref_csv).rows) {
      if (anchor[shard_of(key.second) - 1] == a && key.first <= newest[key.second]) expected.emplace(key, v);
    }
  }
  ASSERT_FALSE(expected.empty());
  size_t shown = 0;
  for (const auto& [key, v] : expected) {
    auto it = all.rows.find(key);
    if (it == all.rows.end()) {
      ADD_FAILURE() << "no live prediction for " << key.first << " " << key.second;
    } else if (it->second != v) {
      ADD_FAILURE() << key.first << " " << key.second << ": live " << it->second << ", replay " << v;
    } else {
      continue;
    }
    if (++shown >= 10) break;
  }
  for (const auto& [key, v] : all.rows) {
    if (!expected.count(key) && shown++ < 10) ADD_FAILURE() << "live predicted " << key.first << " " << key.second
                                                            << " that replay does not";
  }
  EXPECT_EQ(all.rows.size(), expected.size());
  std::cout << "compared " << expected.size() << " predictions with replay (anchors " << anchor[0] << ", " << anchor[1]
            << "; newest " << last << ")\n"
            << "ingest after its restart: " << ingest_->out().substr(ingest_->out().find("Ingest completed"));
}

}  // namespace
}  // namespace af
