// Shows that a steady stretch of bars through the Engine allocates nothing:
// every operator new in this binary is counted.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "test_plan.hpp"

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

namespace af {
namespace {

TEST(EngineAllocations, SteadyStateBarsAllocateNothing) {
  PluginSet plugins;
  testing::register_test_plugins(plugins);
  uint64_t emitted = 0;
  auto e = Engine::create(testing::two_frame_plan({"AAA", "BBB", "CCC"}), plugins,
                          [&](const PredictionRecord&) { ++emitted; });
  ASSERT_TRUE(e.ok());
  Engine& engine = *e.value();
  int64_t ts = 0;
  auto feed = [&](int bars) {
    for (int i = 0; i < bars; ++i, ts += 60'000)
      for (SymbolId s = 0; s < 3; ++s) engine.on_source_bar(0, s, testing::bar_at(ts, 100 + (i % 7)));
  };
  feed(50);  // warm up: ring buffers wrap, every operator has seen its window
  const uint64_t before = g_allocations.load();
  const uint64_t emitted_before = emitted;
  feed(10'000);
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_EQ(emitted - emitted_before, 15'000u);  // one prediction per 2m bar per symbol
}

}  // namespace
}  // namespace af
