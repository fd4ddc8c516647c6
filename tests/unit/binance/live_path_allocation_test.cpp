// Shows that a steady stream of bars on the live path allocates nothing per bar:
// kline updates through the WebSocket's inbox, the exchange clock, the stream
// assembler (BarAssembler), the hand-off to the compute thread (FeedHandoff) and
// the Engine, as LiveMarketFeed and LiveDriver run them. Every operator new in
// this binary is counted.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <optional>

#include "binance/exchange_clock.hpp"
#include "binance/stream_assembler.hpp"
#include "binance/update_inbox.hpp"
#include "runtime/feed_handoff.hpp"
#include "unit/runtime/test_plan.hpp"

namespace {
std::atomic<uint64_t> g_allocations{0};
}

// The replaced operator new and delete pair up through malloc/free; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace af::binance {
namespace {

constexpr int64_t kIv = 60'000;

TEST(LivePathAllocations, SteadyStreamAllocatesNothingPerBar) {
  PluginSet plugins;
  testing::register_test_plugins(plugins);
  const std::vector<std::string> universe{"AAA", "BBB", "CCC"};
  uint64_t emitted = 0;
  auto e = Engine::create(testing::two_frame_plan(universe), plugins, [&](const PredictionRecord&) { ++emitted; });
  ASSERT_TRUE(e.ok());
  Engine& engine = *e.value();
  std::vector<SymbolId> ids;
  for (const auto& s : universe) ids.push_back(*engine.symbols().find(s));

  int64_t wall = 0;  // the local clock, moved by the test
  ExchangeClock clock(kIv, [] { return std::optional<int64_t>{}; }, [&wall] { return wall; });
  FeedHandoff handoff("test", "test feed");
  BarAssemblerOptions ao;
  ao.interval_ms = kIv;
  ao.buffer_ms = 5'000;
  const int64_t anchor = 0;
  StreamAssembler stream(universe.size(), ao, anchor, handoff);
  UpdateInbox inbox;
  std::vector<UpdateInbox::Item> updates;
  std::vector<LiveFeedBar> batch;

  int64_t ts = anchor;
  uint64_t delivered = 0;
  // One bar per symbol: two x=false updates, then x=true, as Binance sends them.
  auto stream_bars = [&](int bars) {
    for (int i = 0; i < bars; ++i, ts += kIv) {
      for (int k = 0; k < 3; ++k) {
        wall = ts + (k + 1) * kIv / 3;
        for (uint32_t s = 0; s < universe.size(); ++s) {
          UpdateInbox::Item item;
          item.update.symbol_index = s;
          item.update.interval_ms = kIv;
          item.update.bar = testing::bar_at(ts, 100 + s + (i % 7));
          item.update.bar.origin = BarOrigin::kStream;
          item.update.closed = k == 2;
          item.update.event_time = wall;
          inbox.push(item);
        }
        ASSERT_TRUE(inbox.take(updates, 0));
        for (const auto& u : updates) {
          clock.observe(u.update.event_time, u.update.bar.ts);
          stream.on_update(u.update.symbol_index, u.update.bar, u.update.closed, clock.now());
        }
        stream.tick(clock.now());
        stream.flush();
        ASSERT_FALSE(stream.fetch_pending());
      }
      batch.clear();
      ASSERT_TRUE(handoff.poll(batch, 0));
      for (const LiveFeedBar& b : batch) engine.on_source_bar(0, ids[b.symbol], b.bar);
      delivered += batch.size();
    }
  };
  stream_bars(50);  // warm up: buffers grow to a batch, ring buffers wrap
  const uint64_t before = g_allocations.load();
  const uint64_t emitted_before = emitted;
  const uint64_t delivered_before = delivered;
  stream_bars(10'000);
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_EQ(delivered - delivered_before, 30'000u);
  EXPECT_EQ(emitted - emitted_before, 15'000u);  // one prediction per 2m bar per symbol
  EXPECT_EQ(handoff.stats().live_bars, delivered);
  EXPECT_EQ(stream.stats().emitted_rest, 0u);
}

}  // namespace
}  // namespace af::binance
