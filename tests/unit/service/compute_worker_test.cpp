// ComputeWorker (signal --threads): bars posted from this thread run on the
// worker's in order, records come out as one engine on this thread makes them,
// and the engine is read only while the worker is idle. Run under TSan in CI.

#include <gtest/gtest.h>

#include <mutex>

#include "../runtime/test_plan.hpp"
#include "service/compute_worker.hpp"

namespace af::service {
namespace {

using testing::bar_at;

struct Seen {
  int64_t ts;
  std::string symbol;
  double prediction;
  bool operator==(const Seen&) const = default;
};

class ComputeWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::register_test_plugins(plugins_); }
  std::unique_ptr<Engine> make(std::vector<Seen>& out) {
    auto e = Engine::create(testing::two_frame_plan({"AAA", "BBB"}), plugins_,
                            [&out](const PredictionRecord& r) { out.push_back({r.ts, *r.symbol, r.prediction}); });
    EXPECT_TRUE(e.ok());
    return std::move(e).value();
  }
  PluginSet plugins_;
};

TEST_F(ComputeWorkerTest, PostedBarsRunInOrderOnTheWorkerAndEqualOneEngineHere) {
  std::vector<Seen> direct;
  auto here = make(direct);
  for (int i = 0; i < 400; ++i) here->on_source_bar(0, i % 2, bar_at((i / 2) * 60'000, i * 0.5 + 1));
  here->on_clock(400 * 60'000);

  std::vector<Seen> posted;  // written on the worker's thread, read here after wait_idle
  ComputeWorker worker(0, make(posted));
  worker.wait_idle();  // not started: returns at once
  worker.start();
  std::vector<ComputeWorker::Item> items;
  for (int i = 0; i < 400; ++i) {
    ComputeWorker::Item item;
    item.symbol = static_cast<SymbolId>(i % 2);
    item.bar = bar_at((i / 2) * 60'000, i * 0.5 + 1);
    item.live = i > 300;
    item.final_at_us = 1000 + i;
    items.push_back(item);
    if (items.size() == 37) {
      worker.post(items);
      EXPECT_TRUE(items.empty()) << "post takes the items";
    }
  }
  worker.post(items);
  ComputeWorker::Item clock;
  clock.clock = true;
  clock.now = 400 * 60'000;
  std::vector<ComputeWorker::Item> tick{clock};
  worker.post(tick);
  worker.wait_idle();
  EXPECT_TRUE(worker.idle());
  EXPECT_FALSE(worker.failure());
  ASSERT_EQ(posted.size(), direct.size());
  EXPECT_EQ(posted, direct);
  // Idle: the engine may be read here, and the latency base names the newest bar.
  EXPECT_EQ(worker.engine().last_processed(0, 1), here->last_processed(0, 1));
  EXPECT_TRUE(worker.latency_base().live);
  EXPECT_EQ(worker.latency_base().symbol_final_at_us[1], 1000 + 399);
  EXPECT_EQ(worker.counters().duplicates.load(), 0u);

  // Stop runs what is still queued first.
  std::vector<ComputeWorker::Item> again;
  for (int i = 0; i < 4; ++i) {
    ComputeWorker::Item item;
    item.symbol = 0;
    item.bar = bar_at(i * 60'000, 0);
    again.push_back(item);
  }
  worker.post(again);
  worker.stop();
  worker.stop();  // idempotent
  EXPECT_EQ(worker.counters().duplicates.load(), 0u + worker.engine().stats().duplicates);
  EXPECT_GE(worker.engine().stats().duplicates + worker.engine().stats().revisions, 4u);
}

}  // namespace
}  // namespace af::service
