// Durable delivery (issue 12 items 2 and 8): a record counts as settled only once
// its sink flushed it or the spool holds it; the spool has a size bound, and what
// it refuses is held back (never delivered out of order, never settled) rather
// than lost; a replayed batch leaves the spool only after the sink flushed it.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

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
const std::string kDag = "dag1";
const std::string kFrame = "ohlcv";
const std::string kColumn = "prediction";

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kStream};

PredictionRecord rec(int64_t ts) { return kLabels.record(ts, kBtc, 0.5, 1'700'000'000'123); }

std::vector<Delivered> expected(int64_t from, int64_t to) {
  std::vector<Delivered> v;
  for (int64_t ts = from; ts <= to; ++ts) v.push_back({ts, kBtc, 0.5});
  return v;
}

bool eventually(const std::function<bool()>& cond, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 5) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

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

class DurableDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("af_durable_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// Item 2: with flushes failing (a full disk under a CSV file), the records sit in
// the sink's memory: not settled, so the live service takes no snapshot past them.
TEST_F(DurableDeliveryTest, ARecordIsSettledOnlyOnceAFlushSucceededAfterItsWrite) {
  SinkScript s;
  s.flush_down = true;
  SignalEmitter e(fast_options());
  e.add("sinks.csv[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 10; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(s.wait_for_count(10, 5000));
  ASSERT_TRUE(eventually([&] { return s.failed_flushes.load() >= 2; }));
  EXPECT_FALSE(e.settled()) << "written but never flushed: only in the sink's memory";
  EXPECT_EQ(e.stats()[0].last_error, "sinks.csv[0]: write failed: No space left on device");
  s.flush_down = false;
  EXPECT_TRUE(eventually([&] { return e.settled(); })) << "a successful flush settles them";
  ASSERT_TRUE(e.close().ok());
}

// Item 2, the spool's side: a replayed batch leaves the spool only once the sink
// flushed it; until then a crash would find it in the spool.
TEST_F(DurableDeliveryTest, ReplayedRecordsLeaveTheSpoolOnlyAfterTheSinkFlushedThem) {
  SinkScript s;
  s.down = true;
  SignalEmitter e(fast_options());
  e.set_spool_dir(dir_.string());
  e.add("sinks.csv[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 12; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(eventually([&] { return e.stats()[0].spooled == 12; }));
  s.flush_down = true;
  s.down = false;
  ASSERT_TRUE(s.wait_for_count(4, 5000));  // the first replayed batch was written
  ASSERT_TRUE(eventually([&] { return s.failed_flushes.load() >= 3; }));
  EXPECT_EQ(e.stats()[0].spool_pending, 12u) << "the spool let go of records the sink holds only in memory";
  EXPECT_TRUE(e.settled()) << "the spool holds every record";
  s.flush_down = false;
  ASSERT_TRUE(eventually([&] { return e.stats()[0].spool_pending == 0; }));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(s.got.size() >= 12, true);
  EXPECT_EQ(std::vector<Delivered>(s.got.end() - 12, s.got.end()), expected(1, 12));
}

// Item 8: the spool's bound. Past it nothing is lost and nothing overtakes: the
// records the spool refuses, and every newer one, are held back; the worker never
// counts as settled again (no snapshot passes them), and close() says so.
TEST_F(DurableDeliveryTest, AFullSpoolHoldsBackNewerRecordsAndNeverSettlesAgain) {
  std::string one_line;
  Spool::append_line(one_line, rec(1));
  SinkScript s;
  s.down = true;
  auto o = fast_options();
  o.spool_max_bytes = one_line.size() * 10 + one_line.size() / 2;  // room for 10 records
  o.max_batch = 1;
  SignalEmitter e(o);
  e.set_spool_dir(dir_.string());
  e.add("sinks.csv[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  EXPECT_TRUE(e.settled());
  for (int64_t ts = 1; ts <= 30; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(eventually([&] { return e.stats()[0].spooled + e.stats()[0].held_back == 30; }));
  auto st = e.stats()[0];
  EXPECT_EQ(st.spooled, 10u);
  EXPECT_EQ(st.held_back, 20u);
  EXPECT_EQ(st.failed, 0u);
  EXPECT_TRUE(st.spool_full);
  EXPECT_TRUE(st.spooling);
  EXPECT_LE(st.spool_bytes, o.spool_max_bytes);
  EXPECT_FALSE(e.settled());
  for (int64_t ts = 31; ts <= 35; ++ts) e.emit(rec(ts));  // still held back, even once the sink is back
  s.down = false;
  ASSERT_TRUE(s.wait_for_count(10, 5000));
  for (int64_t ts = 36; ts <= 40; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(eventually([&] { return e.stats()[0].spool_pending == 0; }));
  EXPECT_FALSE(e.settled());
  Status closed = e.close();
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().message,
            "sinks.csv[0]: 30 records held back (spool full or failing); the next start computes them again from "
            "the last snapshot");
  EXPECT_EQ(s.got, expected(1, 10)) << "only the spooled prefix, in order: nothing newer overtook a held-back record";
}

TEST_F(DurableDeliveryTest, TheSpoolTakesWhatFitsUnderItsBoundAndRefusesTheRest) {
  std::string one_line;
  Spool::append_line(one_line, rec(1));
  const std::string path = (dir_ / "x.spool").string();
  auto sp = Spool::open(path, one_line.size() * 3);
  ASSERT_TRUE(sp) << sp.error().message;
  std::vector<PredictionRecord> two{rec(1), rec(2)};
  size_t appended = 0;
  ASSERT_TRUE((*sp)->append(two, true, &appended).ok());
  EXPECT_EQ(appended, 2u);
  EXPECT_FALSE((*sp)->full());
  std::vector<PredictionRecord> next{rec(3), rec(4)};
  Status refused = (*sp)->append(next, true, &appended);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, path + ": spool full (" + std::to_string(one_line.size() * 2) + " bytes, bound " +
                                         std::to_string(one_line.size() * 3) + "; 1 records refused)");
  EXPECT_EQ(appended, 1u) << "the record that fits is taken";
  EXPECT_TRUE((*sp)->full());
  EXPECT_EQ((*sp)->bytes(), one_line.size() * 3);
  EXPECT_EQ(fs::file_size(path), one_line.size() * 3) << "nothing of the refused record was written";
  EXPECT_EQ((*sp)->pending(), 3u);
  std::vector<PredictionRecord> out;
  ASSERT_TRUE((*sp)->read(out, 10).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].ts, 3);
  ASSERT_TRUE((*sp)->commit().ok());
  EXPECT_EQ((*sp)->bytes(), 0u) << "delivered: the file is truncated and the bound frees up";
  EXPECT_TRUE((*sp)->append(two, true).ok());
  EXPECT_FALSE((*sp)->full());
}

}  // namespace
}  // namespace af
