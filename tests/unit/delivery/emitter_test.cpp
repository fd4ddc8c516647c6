// SignalEmitter / SinkWorker: every sink attempted, failures named, isolation
// between sinks, bounded queues, retry, fatal errors surfaced.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "delivery/signal_emitter.hpp"
#include "unit/delivery/test_sinks.hpp"
#include "support/prediction_records.hpp"

namespace af {
namespace {

using test::Delivered;
using test::ScriptedSink;
using test::SinkScript;

const std::string kBtc = "BTCUSDT";
const std::string kEth = "ETHUSDT";
const std::string kDag = "dag1";
const std::string kFrame = "ohlcv";
const std::string kColumn = "prediction";

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kArchive};

PredictionRecord rec(int64_t ts, const std::string& symbol = kBtc, double p = 0.5) {
  return kLabels.record(ts, symbol, p, 1'700'000'000'000);
}

SinkWorkerOptions fast_options() {
  SinkWorkerOptions o;
  o.queue_capacity = 1024;
  o.max_batch = 16;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff_ms = 1;
  o.retry.max_backoff_ms = 5;
  o.retry.spool_after_ms = 50;
  return o;
}

std::vector<Delivered> expected(int64_t from, int64_t to) {
  std::vector<Delivered> v;
  for (int64_t ts = from; ts <= to; ++ts) v.push_back({ts, kBtc, 0.5});
  return v;
}

TEST(SignalEmitter, DeliversEveryRecordToEverySinkInOrder) {
  SinkScript a, b;
  SignalEmitter e(fast_options());
  e.add("sinks.a[0]", std::make_unique<ScriptedSink>(a));
  e.add("sinks.b[1]", std::make_unique<ScriptedSink>(b));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 100; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(a.got, expected(1, 100));
  EXPECT_EQ(b.got, expected(1, 100));
  EXPECT_TRUE(a.closed && b.closed);
  EXPECT_GE(a.flushes.load(), 1);
  auto st = e.stats();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].name, "sinks.a[0]");
  EXPECT_EQ(st[0].sent, 100u);
  EXPECT_EQ(st[0].failed, 0u);
  EXPECT_EQ(st[0].queue_depth, 0u);
}

TEST(SignalEmitter, OpenAllAttemptsEverySinkAndNamesEachFailure) {
  SinkScript good, bad1, bad2;
  bad1.open_error = "cannot connect to 127.0.0.1:9";
  bad2.open_error = "sinks.b[2] (out/x.csv): cannot create directory 'out': Permission denied";
  SignalEmitter e(fast_options());
  e.add("sinks.a[0]", std::make_unique<ScriptedSink>(bad1));
  e.add("sinks.good[1]", std::make_unique<ScriptedSink>(good));
  e.add("sinks.b[2]", std::make_unique<ScriptedSink>(bad2));
  Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "sinks.a[0]: cannot connect to 127.0.0.1:9; "
            "sinks.b[2] (out/x.csv): cannot create directory 'out': Permission denied");
  EXPECT_TRUE(good.opened);
  e.emit(rec(1));
  Status c = e.close();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(good.got, expected(1, 1));
}

TEST(SignalEmitter, SlowSinkDoesNotDelayTheCallerOrAnotherSink) {
  SinkScript slow, fast;
  slow.delay_ms = 100;
  auto o = fast_options();
  o.max_batch = 1;  // each record costs the slow sink 100 ms
  SignalEmitter e(o);
  e.add("sinks.slow[0]", std::make_unique<ScriptedSink>(slow));
  e.add("sinks.fast[1]", std::make_unique<ScriptedSink>(fast));
  ASSERT_TRUE(e.open_all().ok());
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t ts = 1; ts <= 50; ++ts) e.emit(rec(ts));
  const auto emit_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(emit_ms, 50);  // the slow sink would need 5 s
  ASSERT_TRUE(fast.wait_for_count(50, 2000));
  EXPECT_LT(slow.count(), 50u);  // the fast sink finished while the slow one is still busy
  slow.delay_ms = 0;
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(slow.got, expected(1, 50));
  EXPECT_EQ(fast.got, expected(1, 50));
}

TEST(SignalEmitter, TransientErrorsAreRetried) {
  SinkScript s;
  s.fail_transient_writes = 2;
  SignalEmitter e(fast_options());
  e.add("sinks.flaky[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 5; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(s.got, expected(1, 5));
  EXPECT_EQ(e.stats()[0].retried, 2u);
  EXPECT_EQ(e.stats()[0].last_error, "sinks.flaky[0]: timeout");
}

TEST(SignalEmitter, TransientFailureBeyondTheRetryBudgetWithoutSpoolIsCountedAndReported) {
  SinkScript s;
  s.down = true;
  SignalEmitter e(fast_options());
  e.add("sinks.down[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  e.emit(rec(1));
  e.emit(rec(2));
  Status st = e.close();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sinks.down[0]: 2 records lost");
  EXPECT_EQ(e.stats()[0].failed, 2u);
  EXPECT_TRUE(s.got.empty());
}

TEST(SignalEmitter, FatalErrorStopsOneSinkAndIsSurfaced) {
  SinkScript dead, alive;
  dead.fatal_on_write = true;
  SignalEmitter e(fast_options());
  e.add("sinks.dead[0]", std::make_unique<ScriptedSink>(dead));
  e.add("sinks.alive[1]", std::make_unique<ScriptedSink>(alive));
  ASSERT_TRUE(e.open_all().ok());
  e.emit(rec(1));
  ASSERT_TRUE(alive.wait_for_count(1, 2000));
  for (int i = 0; i < 200 && e.status().ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_FALSE(e.status().ok());
  EXPECT_EQ(e.status().error().message, "sinks.dead[0]: rejected by server");
  const int writes_at_death = dead.writes.load();
  for (int64_t ts = 2; ts <= 10; ++ts) e.emit(rec(ts));
  Status st = e.close();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sinks.dead[0]: rejected by server; sinks.dead[0]: 10 records lost");
  EXPECT_EQ(dead.writes.load(), writes_at_death);  // nothing more reached it
  EXPECT_TRUE(e.stats()[0].dead);
  EXPECT_EQ(alive.got, expected(1, 10));
}

TEST(SignalEmitter, ExceptionInASinkIsCaughtAsFatal) {
  SinkScript s;
  s.throw_on_write = true;
  SignalEmitter e(fast_options());
  e.add("sinks.throws[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  e.emit(rec(1));
  Status st = e.close();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sinks.throws[0]: write threw: kaboom; sinks.throws[0]: 1 records lost");
}

TEST(SignalEmitter, FullQueueWithoutSpoolNeverBlocksAndCountsLosses) {
  SinkScript s;
  s.gate_closed = true;
  auto o = fast_options();
  o.queue_capacity = 4;
  o.max_batch = 1;
  SignalEmitter e(o);
  e.add("sinks.stuck[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t ts = 1; ts <= 20; ++ts) e.emit(rec(ts));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  // One record is in the blocked write, four in the queue, the rest are lost.
  const auto lost = e.stats()[0].failed;
  EXPECT_GE(lost, 15u);
  EXPECT_LE(lost, 16u);
  s.open_gate();
  Status st = e.close();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sinks.stuck[0]: " + std::to_string(lost) + " records lost");
  EXPECT_EQ(s.got.size() + lost, 20u);
}

TEST(SignalEmitter, BackpressureWaitsForASlowSinkAndLosesNothing) {
  // Replay's setting: a queue far smaller than the run and a slow sink; emit()
  // waits for room, so every record arrives, in order, and nothing is spooled.
  SinkScript s;
  s.delay_ms = 1;
  auto o = fast_options();
  o.queue_capacity = 4;
  o.max_batch = 2;
  o.block_when_full = true;
  SignalEmitter e(o);
  e.add("sinks.slow[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 200; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(s.got, expected(1, 200));
  EXPECT_EQ(e.stats()[0].failed, 0u);
  EXPECT_EQ(e.stats()[0].spooled, 0u);
}

TEST(SignalEmitter, BackpressureDoesNotHangOnADeadSink) {
  SinkScript s;
  s.fatal_on_write = true;
  auto o = fast_options();
  o.queue_capacity = 2;
  o.max_batch = 1;
  o.block_when_full = true;
  SignalEmitter e(o);
  e.add("sinks.dead[0]", std::make_unique<ScriptedSink>(s));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 50; ++ts) e.emit(rec(ts));  // returns: the dead sink releases waiters
  EXPECT_FALSE(e.close().ok());
  EXPECT_TRUE(e.stats()[0].dead);
}

}  // namespace
}  // namespace af
