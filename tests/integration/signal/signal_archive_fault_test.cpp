// End to end: `alpha_forge signal` (a child process) against the simulated
// exchange's bulk-archive faults (issue 12 items 1 and 7).
//  - huge_zip: every archive file is a well-formed zip, matching its .CHECKSUM,
//    whose entry declares 1 PiB. The service must not crash (it used to resize to
//    the declared size on the feed's worker thread: std::terminate), must drop the
//    file from its cache, warm up over REST and predict exactly what replay does;
//    a restart over a cache that already holds such files must not crash either.
//  - stall_archive: archive downloads that never answer. SIGINT during warmup must
//    end the service at once, not after the HTTP read timeout (30 s a try).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <iostream>
#include <regex>
#include <thread>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "sim/crafted_zip.hpp"
#include "support/signal_scenario.hpp"
#include "vision/vision_archive.hpp"
#include "vision/vision_layout.hpp"

namespace af {
namespace {

using testing::ChildProcess;
using testing::csv_rows;
using testing::read_csv_predictions;
using testing::read_file;
using testing::run_command;
using testing::SimMarket;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

const std::string kBinary = testing::kAlphaForge;
constexpr auto kLong = testing::kServiceDeadline;
const std::vector<std::string> kSymbols{"BTCUSDT", "ETHUSDT"};

std::string pipeline_yaml(const std::string& csv) {
  return "name: archive_faults\n"
         "signal_generation:\n"
         "  mode: stream\n"
         "  warmup: {lookback_days: 2}\n"
         "  scheduling: {interval: 1m, buffer_minutes: 1}\n"
         "  on_prediction:\n"
         "    - using: sinks.csv_append\n"
         "      params: {path: " + csv + ", dedup_key: [ts, symbol]}\n"
         "pipeline:\n"
         "  - data:\n"
         "      using: data.binance_futures\n"
         "      outputs: {frame: ohlcv}\n"
         "      params: {universe: [BTCUSDT, ETHUSDT], interval: 1m}\n"
         "  - features:\n"
         "      using: features.rsi\n"
         "      inputs: {column: ohlcv.close}\n"
         "      outputs: {columns: [rsi_14]}\n"
         "      params: {window: 14}\n"
         "  - features:\n"
         "      using: features.obv\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [obv]}\n"
         "  - model:\n"
         "      using: models.linear\n"
         "      inputs: {frame: ohlcv}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params: {features: [rsi_14, obv], weights: [-0.04, 0.000001], bias: 2.0}\n";
}

size_t zips_under(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".zip") ++n;
  }
  return n;
}

class SignalArchiveFaultTest : public ::testing::Test {
 protected:
  void start_exchange(const std::string& faults) {
    testing::SimMarketOptions o;
    o.faults = faults;
    ASSERT_EQ(market_.start(dir_.path().string(), o), "");
  }

  std::unique_ptr<ChildProcess> start_signal(const std::string& pipeline, const std::string& state_dir,
                                             const std::string& tag) {
    return testing::start_signal(pipeline, market_, dir_ / tag,
                                 {"--state-dir", state_dir, "--cache-dir", dir_ / "cache", "--snapshot-every", "1",
                                  "--anchor-timeout", "20"});
  }

  // Runs until `rows` predictions, stops with SIGTERM (a clean drain), returns the anchor.
  std::string run_until(ChildProcess& p, const std::string& csv, size_t rows) {
    EXPECT_TRUE(wait_until([&] { return csv_rows(csv) >= rows || !p.running(); }, kLong)) << p.err();
    EXPECT_TRUE(p.running()) << "the service ended by itself:\n" << p.err();
    EXPECT_EQ(testing::stop_service(p, SIGTERM), 0) << p.err();
    const std::string anchor = testing::anchor_of(p.out());
    EXPECT_FALSE(anchor.empty()) << p.out();
    return anchor;
  }

  // Every live prediction equals replay's over the mirror (up to each symbol's newest).
  void expect_replay_equal(const std::string& anchor, const std::string& live_csv) {
    const auto live_run = read_csv_predictions(live_csv);
    const auto& live = live_run.rows;
    ASSERT_FALSE(live.empty());
    EXPECT_EQ(live_run.duplicates, 0u);
    std::map<std::string, std::string> newest;
    for (const auto& [key, v] : live) newest[key.second] = std::max(newest[key.second], key.first);
    std::string last;
    for (const auto& [sym, ts] : newest) last = std::max(last, ts);
    const std::string csv = dir_ / "replay.csv";
    std::filesystem::remove(csv);
    write_file(dir_ / "replay.yaml", pipeline_yaml(csv));
    auto r = run_command(kBinary + " replay " + (dir_ / "replay.yaml") + " --data " + (dir_ / "mirror") + " --from " +
                         anchor + " --to " + format_iso8601(*parse_iso8601(last) + 60'000));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto replayed = read_csv_predictions(csv).rows;
    std::erase_if(replayed, [&](const auto& row) { return row.first.first > newest[row.first.second]; });
    EXPECT_EQ(replayed.size(), live.size());
    size_t diffs = 0;
    for (const auto& [key, v] : replayed) {
      auto it = live.find(key);
      if (it == live.end() || it->second != v) {
        ADD_FAILURE() << key.first << " " << key.second << ": live " << (it == live.end() ? "missing" : it->second)
                      << " replay " << v;
        if (++diffs > 5) break;
      }
    }
  }

  TempDir dir_;
  SimMarket market_;
};

TEST_F(SignalArchiveFaultTest, ACraftedHugeZipIsDroppedAndWarmupGoesToRest) {
  start_exchange("huge_zip=1");
  ASSERT_FALSE(HasFatalFailure());
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv));
  auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "first");
  const std::string anchor = run_until(*p, csv, 30);
  ASSERT_FALSE(anchor.empty());
  EXPECT_GT(market_.exchange().stats().huge_zips, 0u);
  const std::string err = p->err();
  EXPECT_NE(err.find("vision archive file rejected, dropped from the cache, its range goes to REST error="),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("' declares 1125899906842624 bytes, above the bound of "), std::string::npos) << err;
  EXPECT_EQ(zips_under(dir_ / "cache"), 0u) << "a bad archive stays out of the cache";
  expect_replay_equal(anchor, csv);
}

// A cache written before the bound existed may already hold such files (checksums
// matching): a fresh warmup over it rejects them too, and does not crash.
TEST_F(SignalArchiveFaultTest, ACacheHoldingCraftedZipsIsReadWithoutACrash) {
  start_exchange("none");
  ASSERT_FALSE(HasFatalFailure());
  int planted = 0;
  for (const auto& sym : kSymbols) {
    for (const char* day : {"2024-01-08", "2024-01-09"}) {
      vision::VisionPeriod period{2024, 1, static_cast<unsigned>(std::stoi(std::string(day).substr(8)))};
      const std::string folder =
          vision::vision_dir(dir_ / "cache", vision::VisionMarket::kFuturesUm, false, sym, "1m");
      const std::string name = vision::vision_file_name(sym, "1m", period);
      const std::string zip = sim::zip_declaring_size(sym + "-1m-" + day + ".csv", "x\n", 1ULL << 50);
      std::filesystem::create_directories(folder);
      write_file(folder + "/" + name, zip);
      write_file(folder + "/" + name + ".CHECKSUM", vision::checksum_line(zip, name));
      ++planted;
    }
  }
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv));
  auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "cached");
  const std::string anchor = run_until(*p, csv, 30);
  ASSERT_FALSE(anchor.empty());
  const std::string err = p->err();
  size_t rejected = 0;
  for (size_t at = 0; (at = err.find("vision archive file rejected", at)) != std::string::npos; ++at) ++rejected;
  EXPECT_EQ(rejected, 4u) << "each planted file is trusted by its checksum, then rejected:\n" << err;
  EXPECT_EQ(planted, 4);
  EXPECT_EQ(zips_under(dir_ / "cache"), 0u);
  expect_replay_equal(anchor, csv);
}

TEST_F(SignalArchiveFaultTest, SigintDuringAStalledArchiveDownloadExitsAtOnce) {
  start_exchange("stall_archive=1");
  ASSERT_FALSE(HasFatalFailure());
  const std::string csv = dir_ / "live.csv";
  write_file(dir_ / "live.yaml", pipeline_yaml(csv));
  auto p = start_signal(dir_ / "live.yaml", dir_ / "state", "stalled");
  ASSERT_TRUE(wait_until([&] { return market_.exchange().stats().stalled_archives >= 1 || !p->running(); }, kLong))
      << p->err();
  ASSERT_TRUE(p->running()) << p->err();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well inside the download's wait
  const auto sent = std::chrono::steady_clock::now();
  p->signal(SIGINT);
  const int code = p->wait(std::chrono::seconds(60));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  std::cout << "exit " << secs << " s after SIGINT during a stalled archive download\n";
  EXPECT_LT(secs, 3.0) << p->err();
  EXPECT_EQ(code, 0) << p->err();
  EXPECT_NE(p->out().find("Signal generation completed"), std::string::npos) << p->out();
  EXPECT_EQ(p->err().find("live feed failed"), std::string::npos) << "a stop is not a failure:\n" << p->err();
  EXPECT_EQ(csv_rows(csv), 0u);
}

}  // namespace
}  // namespace af
