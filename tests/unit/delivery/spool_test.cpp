// Spool: durable, ordered, checksummed; the emitter spools what a sink cannot
// take and replays it, in order and once, when the sink recovers or at restart.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "delivery/signal_emitter.hpp"
#include "delivery/spool.hpp"
#include "unit/delivery/test_sinks.hpp"
#include "support/prediction_records.hpp"

namespace af {
namespace {

namespace fs = std::filesystem;
using test::Delivered;
using test::ScriptedSink;
using test::SinkScript;

const std::string kBtc = "BTCUSDT";
const std::string kOdd = "we\tird\\name\n";
const std::string kDag = "dag1";
const std::string kFrame = "ohlcv";
const std::string kColumn = "prediction";

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kStream};

PredictionRecord rec(int64_t ts, const std::string& symbol = kBtc, double p = 0.5) {
  return kLabels.record(ts, symbol, p, 1'700'000'000'123);
}

std::vector<Delivered> expected(int64_t from, int64_t to) {
  std::vector<Delivered> v;
  for (int64_t ts = from; ts <= to; ++ts) v.push_back({ts, kBtc, 0.5});
  return v;
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("af_spool_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

SinkWorkerOptions fast_options() {
  SinkWorkerOptions o;
  o.queue_capacity = 1024;
  o.max_batch = 4;
  o.retry.max_attempts = 2;
  o.retry.initial_backoff_ms = 1;
  o.retry.max_backoff_ms = 5;
  o.retry.spool_after_ms = 10;
  return o;
}

TEST_F(SpoolTest, AppendReadCommitRoundTripsEveryField) {
  auto sp = Spool::open((dir_ / "a.spool").string());
  ASSERT_TRUE(sp.ok()) << sp.error().message;
  auto& s = **sp;
  std::vector<PredictionRecord> in{rec(1, kBtc, -0.125), rec(2, kOdd, 1e-300), rec(3, kBtc, 0.1 + 0.2)};
  ASSERT_TRUE(s.append(in, true).ok());
  EXPECT_EQ(s.pending(), 3u);
  std::vector<PredictionRecord> out;
  ASSERT_TRUE(s.read(out, 2).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].ts, 2);
  EXPECT_EQ(*out[1].symbol, kOdd);
  EXPECT_EQ(out[1].prediction, 1e-300);
  EXPECT_EQ(*out[1].dag_name, kDag);
  EXPECT_EQ(*out[1].frame, kFrame);
  EXPECT_EQ(*out[1].column, kColumn);
  EXPECT_EQ(out[1].emitted_at, 1'700'000'000'123);
  EXPECT_EQ(out[1].origin, BarOrigin::kStream);
  // Not committed: the same records again.
  ASSERT_TRUE(s.read(out, 2).ok());
  EXPECT_EQ(out[0].ts, 1);
  ASSERT_TRUE(s.commit().ok());
  EXPECT_EQ(s.pending(), 1u);
  ASSERT_TRUE(s.read(out, 10).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].prediction, 0.1 + 0.2);
  ASSERT_TRUE(s.commit().ok());
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(fs::file_size(dir_ / "a.spool"), 0u);  // emptied once delivered
}

TEST_F(SpoolTest, ReopenResumesAfterTheLastCommitAndCutsATornTail) {
  const auto path = (dir_ / "b.spool").string();
  {
    auto sp = Spool::open(path);
    ASSERT_TRUE(sp.ok());
    std::vector<PredictionRecord> in{rec(1), rec(2), rec(3)};
    ASSERT_TRUE((*sp)->append(in, true).ok());
    std::vector<PredictionRecord> out;
    ASSERT_TRUE((*sp)->read(out, 1).ok());
    ASSERT_TRUE((*sp)->commit().ok());
  }
  {
    std::ofstream f(path, std::ios::app);
    f << "deadbeef 4\tBTC";  // a crash in the middle of an append
  }
  auto sp = Spool::open(path);
  ASSERT_TRUE(sp.ok());
  EXPECT_EQ((*sp)->pending(), 2u);
  std::vector<PredictionRecord> out;
  ASSERT_TRUE((*sp)->read(out, 10).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ts, 2);
  EXPECT_EQ(out[1].ts, 3);
}

TEST_F(SpoolTest, CorruptLineIsSkipped) {
  fs::create_directories(dir_);
  const auto path = (dir_ / "c.spool").string();
  std::string text;
  for (int64_t ts = 1; ts <= 3; ++ts) Spool::append_line(text, rec(ts));
  const size_t second = text.find('\n') + 1;
  text[second + 12] ^= 1;  // flip a bit inside the second payload
  std::ofstream(path) << text << "not a spool line\n";
  auto sp = Spool::open(path);
  ASSERT_TRUE(sp.ok());
  EXPECT_EQ((*sp)->pending(), 4u);
  std::vector<PredictionRecord> out;
  ASSERT_TRUE((*sp)->read(out, 10).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ts, 1);
  EXPECT_EQ(out[1].ts, 3);
  EXPECT_EQ((*sp)->corrupt(), 2u);
}

TEST_F(SpoolTest, SinkDownThenUpDeliversEverythingOnceInOrder) {
  SinkScript s;
  s.down = true;
  SignalEmitter e(fast_options());
  e.set_spool_dir(dir_.string());
  e.add("sinks.down[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 30; ++ts) e.emit(rec(ts));
  for (int i = 0; i < 400 && e.stats()[0].spooled < 30; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(e.stats()[0].spooled, 30u);
  EXPECT_TRUE(fs::exists(SignalEmitter::spool_path(dir_.string(), "sinks.down[0]")));
  for (int64_t ts = 31; ts <= 40; ++ts) e.emit(rec(ts));  // newer records queue behind the spool
  s.down = false;
  ASSERT_TRUE(s.wait_for_count(40, 5000));
  for (int64_t ts = 41; ts <= 45; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(s.got, expected(1, 45));
  const auto st = e.stats()[0];
  EXPECT_EQ(st.failed, 0u);
  EXPECT_EQ(st.spool_pending, 0u);
  EXPECT_GE(st.replayed, 30u);
}

TEST_F(SpoolTest, FullQueueSpillsToTheSpoolWithoutLossOrReordering) {
  SinkScript s;
  s.gate_closed = true;
  auto o = fast_options();
  o.queue_capacity = 4;
  o.max_batch = 2;
  SignalEmitter e(o);
  e.set_spool_dir(dir_.string());
  e.add("sinks.stuck[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 100; ++ts) e.emit(rec(ts));
  EXPECT_EQ(e.stats()[0].failed, 0u);
  EXPECT_GT(e.stats()[0].spooled, 90u);
  s.open_gate();
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(s.got, expected(1, 100));
}

TEST_F(SpoolTest, RestartReplaysANonEmptySpoolBeforeNewRecords) {
  {
    SinkScript s;
    s.down = true;
    SignalEmitter e(fast_options());
    e.set_spool_dir(dir_.string());
    e.add("sinks.x[0]", std::make_unique<ScriptedSink>(s));
    ASSERT_TRUE(e.open_all().ok());
    for (int64_t ts = 1; ts <= 5; ++ts) e.emit(rec(ts));
    ASSERT_TRUE(e.close().ok());  // nothing lost: it is all in the spool
    EXPECT_EQ(e.stats()[0].spool_pending, 5u);
    EXPECT_TRUE(s.got.empty());
  }
  SinkScript s;
  SignalEmitter e(fast_options());
  e.set_spool_dir(dir_.string());
  e.add("sinks.x[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 6; ts <= 8; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(s.got, expected(1, 8));
  // 6..8 may follow the old records through the spool, if they came while it was replaying.
  EXPECT_GE(e.stats()[0].replayed, 5u);
  EXPECT_EQ(e.stats()[0].sent, 8u);
  EXPECT_EQ(fs::file_size(SignalEmitter::spool_path(dir_.string(), "sinks.x[0]")), 0u);
}

// Fault injection: write attempts N .. N+k-1 fail, for every N of a run and k
// below, at and above the retry budget (2 attempts): nothing lost, nothing
// doubled, order kept, whether the records wait in the queue or in the spool.
TEST_F(SpoolTest, FailingWriteAttemptsNeverLoseOrDoubleRecords) {
  for (int count : {1, 2, 5}) {
    for (int from = 0; from < 14; ++from) {
      SinkScript s;
      s.fail_from = from;
      s.fail_count = count;
      std::string sub = "n";  // built step by step: g++ 12 warns (-Wrestrict, a false positive) on "n" + to_string
      sub += std::to_string(from);
      sub += 'k';
      sub += std::to_string(count);
      const std::string dir = (dir_ / sub).string();
      SignalEmitter e(fast_options());
      e.set_spool_dir(dir);
      e.add("sinks.flaky[0]", std::make_unique<ScriptedSink>(s));
      ASSERT_TRUE(e.open_all().ok());
      for (int64_t ts = 1; ts <= 40; ++ts) e.emit(rec(ts));
      ASSERT_TRUE(s.wait_for_count(40, 5000)) << "from=" << from << " count=" << count;
      ASSERT_TRUE(e.close().ok()) << "from=" << from << " count=" << count;
      ASSERT_EQ(s.got, expected(1, 40)) << "from=" << from << " count=" << count;
      EXPECT_EQ(e.stats()[0].failed, 0u);
      EXPECT_EQ(e.stats()[0].spool_pending, 0u);
    }
  }
}

TEST(SpoolPath, SinkNameBecomesAFlatFileName) {
  EXPECT_EQ(SignalEmitter::spool_path("/var/af", "sinks.csv_append[0]"), "/var/af/sinks.csv_append_0_.spool");
}

}  // namespace
}  // namespace af
