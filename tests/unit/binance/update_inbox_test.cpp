// UpdateInbox: arrival order kept, and bounded while the worker does not take:
// an open bar's update replaces the queued one of the same symbol and bar, never
// across a connection event, never a final update.

#include "binance/update_inbox.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace af::binance {
namespace {

constexpr int64_t kMinute = 60'000;

UpdateInbox::Item update(uint32_t symbol, int64_t ts, double close, bool closed = false) {
  UpdateInbox::Item item;
  item.update.symbol_index = symbol;
  item.update.interval_ms = kMinute;
  item.update.bar.ts = ts;
  item.update.bar.close = close;
  item.update.closed = closed;
  return item;
}

UpdateInbox::Item event(WsEventKind kind) {
  UpdateInbox::Item item;
  item.is_event = true;
  item.event.kind = kind;
  return item;
}

TEST(UpdateInbox, AnOpenBarKeepsOnlyItsNewestUpdateWhileQueued) {
  UpdateInbox inbox;
  // 3 symbols x 10,000 pushes of one open bar each, interleaved.
  size_t replaced = 0;
  for (int i = 0; i < 10'000; ++i)
    for (uint32_t s = 0; s < 3; ++s) replaced += inbox.push(update(s, 0, 100.0 * s + i));
  EXPECT_EQ(inbox.queued(), 3u);
  EXPECT_EQ(replaced, 3u * 9'999);
  std::vector<UpdateInbox::Item> batch;
  ASSERT_TRUE(inbox.take(batch, 0));
  ASSERT_EQ(batch.size(), 3u);
  for (uint32_t s = 0; s < 3; ++s) {
    EXPECT_EQ(batch[s].update.symbol_index, s);
    EXPECT_EQ(batch[s].update.bar.close, 100.0 * s + 9'999);  // the newest
  }
}

TEST(UpdateInbox, FinalUpdatesAndTheNextBarAreNeverReplaced) {
  UpdateInbox inbox;
  EXPECT_FALSE(inbox.push(update(0, 0, 1.0)));
  EXPECT_FALSE(inbox.push(update(0, 0, 2.0, true)));  // final: kept
  EXPECT_FALSE(inbox.push(update(0, 0, 3.0, true)));  // a repeated final is kept too (the assembler decides)
  EXPECT_FALSE(inbox.push(update(0, kMinute, 4.0)));  // the next bar: its own slot
  EXPECT_TRUE(inbox.push(update(0, kMinute, 5.0)));   // replaces 4
  EXPECT_FALSE(inbox.push(update(0, 2 * kMinute, 6.0)));
  std::vector<UpdateInbox::Item> batch;
  ASSERT_TRUE(inbox.take(batch, 0));
  ASSERT_EQ(batch.size(), 5u);
  EXPECT_EQ(batch[0].update.bar.close, 1.0);
  EXPECT_TRUE(batch[1].update.closed);
  EXPECT_EQ(batch[1].update.bar.close, 2.0);
  EXPECT_EQ(batch[2].update.bar.close, 3.0);
  EXPECT_EQ(batch[3].update.bar.ts, kMinute);
  EXPECT_EQ(batch[3].update.bar.close, 5.0);
  EXPECT_EQ(batch[4].update.bar.ts, 2 * kMinute);
}

TEST(UpdateInbox, NothingIsReplacedAcrossAConnectionEvent) {
  UpdateInbox inbox;
  inbox.push(update(0, 0, 1.0));
  inbox.push(event(WsEventKind::kReconnected));
  inbox.push(update(0, 0, 2.0));  // after the reconnect: queued after it, not moved before
  inbox.push(update(0, 0, 3.0));  // replaces 2, which is after the event
  std::vector<UpdateInbox::Item> batch;
  ASSERT_TRUE(inbox.take(batch, 0));
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].update.bar.close, 1.0);
  EXPECT_TRUE(batch[1].is_event);
  EXPECT_EQ(batch[2].update.bar.close, 3.0);
}

TEST(UpdateInbox, WhatWasTakenIsNeverReplaced) {
  UpdateInbox inbox;
  inbox.push(update(1, 0, 1.0));
  std::vector<UpdateInbox::Item> first, second;
  ASSERT_TRUE(inbox.take(first, 0));
  EXPECT_FALSE(inbox.push(update(1, 0, 2.0)));  // same bar, but the first is in the worker's hands
  ASSERT_TRUE(inbox.take(second, 0));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].update.bar.close, 1.0);
  EXPECT_EQ(second[0].update.bar.close, 2.0);
}

// The io thread pushes a long burst while the worker is away; the queue stays at
// the symbols' count plus the finals, and the worker sees every final in order.
TEST(UpdateInbox, StaysBoundedUnderABurstFromAnotherThread) {
  UpdateInbox inbox;
  constexpr uint32_t kSymbols = 200;
  constexpr int kBars = 5;
  std::thread io([&] {
    for (int bar = 0; bar < kBars; ++bar) {
      for (int push = 0; push < 400; ++push)
        for (uint32_t s = 0; s < kSymbols; ++s) inbox.push(update(s, bar * kMinute, push));
      for (uint32_t s = 0; s < kSymbols; ++s) inbox.push(update(s, bar * kMinute, 1e6, true));
    }
  });
  io.join();
  EXPECT_LE(inbox.queued(), static_cast<size_t>(kBars) * kSymbols * 2);
  std::vector<UpdateInbox::Item> batch;
  ASSERT_TRUE(inbox.take(batch, 0));
  std::vector<int64_t> last_final(kSymbols, -kMinute);
  size_t finals = 0;
  for (const auto& item : batch) {
    if (!item.update.closed) continue;
    ++finals;
    EXPECT_EQ(item.update.bar.ts, last_final[item.update.symbol_index] + kMinute);
    last_final[item.update.symbol_index] = item.update.bar.ts;
  }
  EXPECT_EQ(finals, static_cast<size_t>(kBars) * kSymbols);
}

TEST(UpdateInbox, CloseEndsAWaitingTake) {
  UpdateInbox inbox;
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    inbox.close();
  });
  std::vector<UpdateInbox::Item> batch;
  EXPECT_FALSE(inbox.take(batch, 10'000));
  closer.join();
}

}  // namespace
}  // namespace af::binance
