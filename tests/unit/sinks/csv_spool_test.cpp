// sinks.csv_append behind the emitter with a spool: a sink that is down, a
// restart, and a spool that replays records the file already holds (a crash
// between delivery and the spool's bookkeeping) still give each key once, in order.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time.hpp"
#include "delivery/signal_emitter.hpp"
#include "delivery/spool.hpp"
#include "sinks/csv_append_sink.hpp"
#include "support/prediction_records.hpp"

namespace af::sinks {
namespace {

namespace fs = std::filesystem;

const std::string kBtc = "BTCUSDT";
const std::string kDag = "d";
const std::string kFrame = "f";
const std::string kColumn = "c";
constexpr int64_t kT0 = 1'766'754'000'000;
constexpr int64_t kHour = 3'600'000;

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kArchive};

PredictionRecord rec(int i) { return kLabels.record(kT0 + i * kHour, kBtc, i, kT0); }

// Wraps a sink; while `down` is set every write fails transiently, as a full
// disk or an unreachable server would.
class Flaky : public Sink {
 public:
  Flaky(std::unique_ptr<Sink> inner, std::atomic<bool>& down) : inner_(std::move(inner)), down_(down) {}
  Status open() override { return inner_->open(); }
  Status write(std::span<const PredictionRecord> b) override {
    if (down_) return make_error("No space left on device", true);
    return inner_->write(b);
  }
  Status flush() override { return inner_->flush(); }
  Status close() override { return inner_->close(); }

 private:
  std::unique_ptr<Sink> inner_;
  std::atomic<bool>& down_;
};

// The ts column of every data line, as record indexes.
std::vector<int> indexes_in(const fs::path& p) {
  std::ifstream f(p);
  std::string line;
  std::getline(f, line);
  std::vector<int> out;
  while (std::getline(f, line)) {
    auto ts = parse_iso8601(line.substr(0, line.find(',')));
    out.push_back(ts ? static_cast<int>((*ts - kT0) / kHour) : -1);
  }
  return out;
}

std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i <= to; ++i) v.push_back(i);
  return v;
}

SinkWorkerOptions fast() {
  SinkWorkerOptions o;
  o.max_batch = 4;
  o.retry.max_attempts = 2;
  o.retry.initial_backoff_ms = 1;
  o.retry.max_backoff_ms = 5;
  return o;
}

class CsvSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("af_csvspool_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<Sink> csv() {
    return std::make_unique<CsvAppendSink>("sinks.csv_append[0]", (dir_ / "p.csv").string(),
                                           std::vector<RecordField>{RecordField::kTs, RecordField::kSymbol},
                                           CsvAppendSink::PlanIdentity{"minimal", "0123456789abcdef"});
  }
  fs::path dir_;
};

TEST_F(CsvSpoolTest, DownThenRestartThenUpWritesEachRecordOnceInOrder) {
  std::atomic<bool> down{false};
  {
    SignalEmitter e(fast());
    e.set_spool_dir((dir_ / "spool").string());
    e.add("sinks.csv_append[0]", std::make_unique<Flaky>(csv(), down));
    ASSERT_TRUE(e.open_all().ok());
    for (int i = 1; i <= 10; ++i) e.emit(rec(i));
    for (int k = 0; k < 400 && e.stats()[0].sent < 10; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    down = true;
    for (int i = 11; i <= 25; ++i) e.emit(rec(i));
    ASSERT_TRUE(e.close().ok());  // the sink is down: 11..25 wait in the spool
    EXPECT_EQ(e.stats()[0].spool_pending, 15u);
  }
  EXPECT_EQ(indexes_in(dir_ / "p.csv"), range(1, 10));
  down = false;
  SignalEmitter e(fast());
  e.set_spool_dir((dir_ / "spool").string());
  e.add("sinks.csv_append[0]", std::make_unique<Flaky>(csv(), down));
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 20; i <= 30; ++i) e.emit(rec(i));  // the engine re-emits a few after its restart
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(indexes_in(dir_ / "p.csv"), range(1, 30));
}

TEST_F(CsvSpoolTest, ReplayOfRecordsTheFileAlreadyHoldsIsAbsorbed) {
  {
    SignalEmitter e(fast());
    e.add("sinks.csv_append[0]", csv());
    ASSERT_TRUE(e.open_all().ok());
    for (int i = 1; i <= 8; ++i) e.emit(rec(i));
    ASSERT_TRUE(e.close().ok());
  }
  // A spool left by a crash after 5..8 were delivered but before they were committed.
  const auto spool_dir = dir_ / "spool";
  {
    auto sp = Spool::open(SignalEmitter::spool_path(spool_dir.string(), "sinks.csv_append[0]"));
    ASSERT_TRUE(sp.ok());
    std::vector<PredictionRecord> again;
    for (int i = 5; i <= 12; ++i) again.push_back(rec(i));
    ASSERT_TRUE((*sp)->append(again, true).ok());
  }
  SignalEmitter e(fast());
  e.set_spool_dir(spool_dir.string());
  e.add("sinks.csv_append[0]", csv());
  ASSERT_TRUE(e.open_all().ok());
  for (int i = 13; i <= 14; ++i) e.emit(rec(i));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(indexes_in(dir_ / "p.csv"), range(1, 14));
}

}  // namespace
}  // namespace af::sinks
