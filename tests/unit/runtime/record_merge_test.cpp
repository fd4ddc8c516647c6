// RecordMerge (runtime/record_merge.hpp): records of several producer threads come
// out in key order, each once, with tiny queues that make producers wait on the
// consumer; a lane that emits nothing for long still lets the others through
// (watermarks); after a failure nothing past its key comes out.
#include "runtime/record_merge.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

namespace af {
namespace {

// Lane `lane` of `lanes` owns the symbols s with s % lanes == lane; every
// `events` closes, each of its symbols has an event; some events make 0..3
// records (ts: the record's number within the event).
struct Script {
  size_t lanes = 3;
  uint32_t symbols = 7;
  int64_t closes = 400;
  unsigned seed = 1;
  size_t quiet_lane = SIZE_MAX;  // makes no record at all (a lane in warmup)
};

std::vector<std::string> names(uint32_t n) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < n; ++i) {
    std::string name = std::to_string(i);
    name.insert(name.begin(), 'S');
    out.push_back(std::move(name));
  }
  return out;
}

// Runs the producers, returns what the consumer received (key-ordered keys).
std::vector<std::pair<EventKey, int64_t>> run(const Script& sc, size_t max_batches, size_t batch_records,
                                              const std::vector<std::string>& symbol_names,
                                              std::optional<std::pair<size_t, EventKey>> fail = std::nullopt) {
  RecordMerge merge(sc.lanes, max_batches);
  std::vector<std::thread> threads;
  for (size_t lane = 0; lane < sc.lanes; ++lane) {
    threads.emplace_back([&, lane] {
      std::mt19937 rng(sc.seed * 100 + static_cast<unsigned>(lane));
      std::vector<KeyedRecord> batch;
      for (int64_t close = 1; close <= sc.closes; ++close) {
        for (uint32_t s = 0; s < sc.symbols; ++s) {
          if (s % sc.lanes != lane) continue;
          const EventKey key{close, 0, s};
          if (fail && fail->first == lane && fail->second == key) {
            merge.finish(lane, batch, key);
            return;
          }
          if (rng() % 7 == 0) merge.publish(lane, batch, key);  // irregular watermarks
          const int records = lane == sc.quiet_lane ? 0 : static_cast<int>(rng() % 4);
          for (int i = 0; i < records; ++i) {
            PredictionRecord r;
            r.ts = i;
            r.symbol = &symbol_names[s];
            batch.push_back(KeyedRecord{key, r});
            if (batch.size() >= batch_records) merge.publish(lane, batch, key);
          }
        }
      }
      merge.finish(lane, batch);
    });
  }
  std::vector<std::pair<EventKey, int64_t>> got;
  merge.drain(
      [&](const PredictionRecord& r) {
        const auto s = static_cast<uint32_t>(r.symbol - symbol_names.data());
        // The key is not in the record: rebuild it from the order (close advances
        // when the symbol order wraps) and check that order instead.
        got.push_back({EventKey{0, 0, s}, r.ts});
      },
      nullptr);
  for (auto& t : threads) t.join();
  return got;
}

// What one thread would emit: closes in order, symbols in order, records in order.
std::vector<std::pair<EventKey, int64_t>> expected(const Script& sc, std::optional<EventKey> stop = std::nullopt) {
  std::vector<std::pair<EventKey, int64_t>> out;
  std::vector<std::mt19937> rngs;
  for (size_t lane = 0; lane < sc.lanes; ++lane) rngs.emplace_back(sc.seed * 100 + static_cast<unsigned>(lane));
  for (int64_t close = 1; close <= sc.closes; ++close) {
    for (uint32_t s = 0; s < sc.symbols; ++s) {
      const size_t lane = s % sc.lanes;
      const EventKey key{close, 0, s};
      if (stop && !(key < *stop)) return out;
      std::mt19937& rng = rngs[lane];
      (void)(rng() % 7);
      const int records = lane == sc.quiet_lane ? 0 : static_cast<int>(rng() % 4);
      for (int i = 0; i < records; ++i) out.push_back({EventKey{0, 0, s}, i});
    }
  }
  return out;
}

TEST(RecordMerge, GivesEveryRecordOnceInSingleThreadOrder) {
  const auto symbols = names(7);
  for (unsigned seed = 1; seed <= 5; ++seed) {
    Script sc;
    sc.seed = seed;
    const auto want = expected(sc);
    ASSERT_GT(want.size(), 1000u);
    // Queues of one batch of 2 records: producers wait on the consumer all the time.
    EXPECT_EQ(run(sc, 1, 2, symbols), want) << "seed " << seed;
    EXPECT_EQ(run(sc, 16, 512, symbols), want) << "seed " << seed;
  }
}

TEST(RecordMerge, AQuietLaneDoesNotHoldTheOthersBack) {
  const auto symbols = names(7);
  Script sc;
  sc.quiet_lane = 1;
  sc.closes = 2000;
  EXPECT_EQ(run(sc, 1, 4, symbols), expected(sc));
}

TEST(RecordMerge, NothingAfterTheEarliestFailureComesOut) {
  const auto symbols = names(7);
  Script sc;
  const EventKey at{150, 0, 4};  // symbol 4 is lane 1's
  const auto got = run(sc, 2, 8, symbols, std::make_pair(size_t{1}, at));
  EXPECT_EQ(got, expected(sc, at));
}

}  // namespace
}  // namespace af
