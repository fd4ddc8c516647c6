// `alpha_forge signal` against the simulated exchange when its disks fail (issue
// 12 items 2 and 3): a CSV sink on a full disk, a state directory turned
// read-only mid-run, a full state directory. After each fault: no snapshot past
// a record the sink does not durably hold, /healthz and the exit code say what
// happened, and across kill -9 and a restart every prediction is in the CSV
// exactly once, with no hole, also when the restart has no usable snapshot.
//
// Disks are made to fail for real: a small tmpfs filled to the last byte, and a
// read-only bind mount over the state directory. Both need the right to mount
// (root in CI); without it the tests say so and skip.

#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "support/signal_scenario.hpp"

namespace af {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::csv_rows;
using testing::metric_sum;
using testing::read_file;
using testing::rsi_linear_pipeline;
using testing::run_command;
using testing::SimMarket;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

constexpr auto kLong = testing::kServiceDeadline;
constexpr int64_t kMinute = 60'000;

// A mount this test made; unmounted (lazily) when it goes.
class Mount {
 public:
  // A tmpfs of `size` ("256k") at `dir`; nullptr when this process may not mount.
  static std::unique_ptr<Mount> tmpfs(const std::string& dir, const std::string& size) {
    fs::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) return nullptr;
    return std::unique_ptr<Mount>(new Mount(dir));
  }
  // `dir` seen read-only from now on (files already open stay writable).
  static std::unique_ptr<Mount> read_only(const std::string& dir) {
    if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) return nullptr;
    auto m = std::unique_ptr<Mount>(new Mount(dir));
    if (::mount(nullptr, dir.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) return nullptr;
    return m;
  }
  ~Mount() { ::umount2(dir_.c_str(), MNT_DETACH); }

 private:
  explicit Mount(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Fills the file system that holds `dir` to the last byte.
void fill_up(const std::string& dir) {
  std::ofstream f(dir + "/filler", std::ios::binary);
  const std::string chunk(4096, 'x');
  while (f.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) && f.flush()) {
  }
  std::ofstream g(dir + "/filler2", std::ios::binary);  // and the last partial page
  while (g.put('x') && g.flush()) {
  }
}

// Every prediction exactly once: per symbol, no ts twice and none missing
// between its first and its last.
void expect_each_minute_once(const std::string& csv) {
  std::map<std::string, std::vector<int64_t>> by_symbol;
  const auto lines = split_lines(read_file(csv));
  ASSERT_GT(lines.size(), 1u);
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    ASSERT_GE(f.size(), 3u) << csv << ":" << i + 1 << ": " << lines[i];
    const auto ts = parse_iso8601(f[0]);
    ASSERT_TRUE(ts) << csv << ":" << i + 1 << ": " << lines[i];
    by_symbol[f[1]].push_back(*ts);
  }
  ASSERT_EQ(by_symbol.size(), 2u);
  for (auto& [symbol, ts] : by_symbol) {
    std::sort(ts.begin(), ts.end());
    for (size_t i = 1; i < ts.size(); ++i) {
      ASSERT_NE(ts[i], ts[i - 1]) << symbol << " " << format_iso8601(ts[i]) << " is in the CSV twice";
      ASSERT_EQ(ts[i] - ts[i - 1], kMinute) << symbol << ": no prediction between " << format_iso8601(ts[i - 1])
                                            << " and " << format_iso8601(ts[i]);
    }
  }
}

class StateFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(market_.start(dir_.path().string()), ""); }

  std::unique_ptr<ChildProcess> start_signal(const std::string& pipeline, const std::string& state_dir,
                                             const std::string& tag) {
    auto p = testing::start_signal(pipeline, market_, dir_ / tag,
                                   {"--state-dir", state_dir, "--cache-dir", dir_ / "cache", "--snapshot-every", "1",
                                    "--snapshot-max-age", "3", "--metrics-port", "0", "--anchor-timeout", "20"});
    url_ = testing::wait_metrics_url(*p);
    return p;
  }
  std::string get(const std::string& path) { return run_command("curl -s -m 5 " + url_ + path).out; }
  std::string status(const std::string& path) {
    return run_command("curl -s -m 5 -o /dev/null -w '%{http_code}' " + url_ + path).out;
  }

  TempDir dir_;
  SimMarket market_;
  std::string url_;
};

// Item 2: the CSV's disk fills up. Its flushes fail, so the records after that
// are only in the sink's memory: no snapshot may count them. kill -9 then, free
// the disk, restart: the restart resumes from a snapshot before them and the CSV
// ends up with every prediction once.
TEST_F(StateFaultsTest, CsvOnAFullDiskStopsSnapshotsAndKillNineLosesNothing) {
  auto disk = Mount::tmpfs(dir_ / "csvfs", "1m");
  if (!disk) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN): the full-disk case is not run";
  const std::string csv = dir_ / "csvfs/live.csv";
  write_file(dir_ / "live.yaml", rsi_linear_pipeline("faults", csv));
  auto first = start_signal(dir_ / "live.yaml", dir_ / "state", "first");
  ASSERT_FALSE(url_.empty()) << first->err();
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= 30 || !first->running(); }, kLong)) << first->err();
  ASSERT_TRUE(wait_until([&] { return metric_sum(get("/metrics"), "af_snapshots_total") >= 2; }, kLong)) << first->err();
  EXPECT_EQ(status("/healthz"), "200") << get("/healthz");

  fill_up(dir_ / "csvfs");
  ASSERT_TRUE(wait_until([&] { return first->err().find("No space left on device") != std::string::npos; }, kLong))
      << first->err();
  const double snapshots_when_full = metric_sum(get("/metrics"), "af_snapshots_total");
  // The bound is 3 s: health turns, and no snapshot was written since (one may have been in flight).
  ASSERT_TRUE(wait_until([&] { return status("/healthz") == "503"; }, std::chrono::seconds(20))) << get("/healthz");
  EXPECT_NE(get("/healthz").find("records not settled in the sinks"), std::string::npos) << get("/healthz");
  EXPECT_LE(metric_sum(get("/metrics"), "af_snapshots_total"), snapshots_when_full + 1);
  EXPECT_GT(metric_sum(get("/metrics"), "af_predictions_total"), static_cast<double>(csv_rows(csv)))
      << "records were predicted that the full disk does not hold";
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(kLong), 128 + SIGKILL);

  fs::remove(dir_ / "csvfs/filler");
  fs::remove(dir_ / "csvfs/filler2");
  const size_t rows_at_kill = csv_rows(csv);
  auto second = start_signal(dir_ / "live.yaml", dir_ / "state", "second");
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= rows_at_kill + 60 || !second->running(); }, kLong))
      << second->err();
  second->signal(SIGTERM);
  ASSERT_EQ(second->wait(kLong), 0) << second->err();
  EXPECT_NE(second->err().find("snapshot restored"), std::string::npos) << second->err();
  expect_each_minute_once(csv);
}

// Item 3: the state directory turns read-only under the running service. Every
// snapshot fails; /healthz says so once the newest is older than the bound, and
// the exit code says the final snapshot failed.
TEST_F(StateFaultsTest, ReadOnlyStateDirMidRunTurnsHealthAndTheExitCode) {
  const std::string csv = dir_ / "live.csv";
  const std::string state = dir_ / "state";
  write_file(dir_ / "live.yaml", rsi_linear_pipeline("faults", csv));
  auto p = start_signal(dir_ / "live.yaml", state, "live");
  ASSERT_FALSE(url_.empty()) << p->err();
  ASSERT_TRUE(wait_until([&] { return status("/healthz") == "200" || !p->running(); }, kLong)) << p->err();
  ASSERT_TRUE(wait_until([&] { return metric_sum(get("/metrics"), "af_snapshots_total") >= 1; }, kLong));
  auto ro = Mount::read_only(state);
  if (!ro) {
    p->signal(SIGTERM);
    p->wait(kLong);
    GTEST_SKIP() << "cannot bind-mount read-only here (needs CAP_SYS_ADMIN): the read-only case is not run";
  }
  ASSERT_TRUE(wait_until([&] { return status("/healthz") == "503"; }, std::chrono::seconds(20))) << get("/healthz");
  const std::string health = get("/healthz");
  EXPECT_EQ(health.rfind("no snapshot for ", 0), 0u) << health;
  EXPECT_NE(health.find("(bound 3 s): failing: " + state + "/snapshot.bin.tmp: cannot create: Read-only file system"),
            std::string::npos)
      << health;
  const std::string metrics = get("/metrics");
  EXPECT_GT(metric_sum(metrics, "af_snapshot_failures_total"), 0);
  // What an alert sees: the newest snapshot (one was written before the mount) is
  // older than the bound the service reports.
  const double last_snapshot = metric_sum(metrics, "af_snapshot_last_written_timestamp_seconds");
  EXPECT_GT(last_snapshot, 0) << metrics;
  EXPECT_GT(static_cast<double>(now_ms()) / 1000.0 - last_snapshot, 3) << metrics;
  EXPECT_EQ(metric_sum(metrics, "af_snapshot_max_age_seconds"), 3) << metrics;
  p->signal(SIGTERM);
  EXPECT_EQ(p->wait(kLong), 3) << p->err();
  EXPECT_NE(p->out().find("Signal generation stopped WITHOUT its final snapshot"), std::string::npos) << p->out();
  EXPECT_NE(p->err().find("error: final snapshot failed: " + state +
                          "/snapshot.bin.tmp: cannot create: Read-only file system (the next start resumes from the "
                          "previous snapshot)"),
            std::string::npos)
      << p->err();
}

// Item 3: a full state directory. Snapshots fail (health says so); after kill -9
// the restart finds no usable snapshot, and still predicts from the CSV's
// newest record on: no hole for the time the service was down.
TEST_F(StateFaultsTest, FullStateDirThenARestartWithoutSnapshotCatchesUpFromTheCsv) {
  auto disk = Mount::tmpfs(dir_ / "state", "8m");
  if (!disk) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN): the full state directory is not run";
  const std::string csv = dir_ / "live.csv";
  const std::string state = dir_ / "state";
  write_file(dir_ / "live.yaml", rsi_linear_pipeline("faults", csv));
  auto first = start_signal(dir_ / "live.yaml", state, "first");
  ASSERT_FALSE(url_.empty()) << first->err();
  ASSERT_TRUE(wait_until([&] { return status("/healthz") == "200" || !first->running(); }, kLong)) << first->err();
  fill_up(state);
  ASSERT_TRUE(wait_until([&] { return status("/healthz") == "503"; }, std::chrono::seconds(20))) << get("/healthz");
  EXPECT_NE(get("/healthz").find("No space left on device"), std::string::npos) << get("/healthz");
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(kLong), 128 + SIGKILL);

  fs::remove(state + "/filler");
  fs::remove(state + "/filler2");
  fs::remove(state + "/snapshot.bin");  // no usable snapshot
  std::this_thread::sleep_for(std::chrono::seconds(3));  // about 30 bars close meanwhile
  const size_t rows_at_kill = csv_rows(csv);
  auto second = start_signal(dir_ / "live.yaml", state, "second");
  ASSERT_TRUE(wait_until([&] { return csv_rows(csv) >= rows_at_kill + 80 || !second->running(); }, kLong))
      << second->err();
  second->signal(SIGTERM);
  ASSERT_EQ(second->wait(kLong), 0) << second->err();
  EXPECT_NE(second->out().find("restored=0"), std::string::npos) << second->out();
  EXPECT_NE(second->err().find("no usable snapshot: the sinks hold predictions up to "), std::string::npos)
      << second->err();
  expect_each_minute_once(csv);
}

}  // namespace
}  // namespace af
