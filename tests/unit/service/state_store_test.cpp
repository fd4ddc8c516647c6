// StateStore: the snapshot file round-trips, and every way it can be unusable
// (truncated, damaged, another pipeline's) is refused with a message naming it.

#include "service/state_store.hpp"
#include "service/snapshot_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.hpp"

namespace af::service {
namespace {

dag::Plan plan_named(const std::string& name) {
  dag::Plan p;
  p.name = name;
  p.file = name + ".yaml";
  p.lookback_days = 3;
  return p;
}

std::string slurp(const std::string& path) { return testing::read_file(path); }
void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(StateStore, NoSnapshotIsNotAnError) {
  testing::TempDir dir;
  auto store = StateStore::open(dir / "state", plan_named("a"));
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_TRUE(std::filesystem::is_directory(dir / "state"));
  auto loaded = store->load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(loaded->has_value());
}

TEST(StateStore, RoundTripAndAtomicReplace) {
  testing::TempDir dir;
  auto store = StateStore::open(dir / "state", plan_named("a"));
  ASSERT_TRUE(store);
  std::string engine(100'000, '\0');
  for (size_t i = 0; i < engine.size(); ++i) engine[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(store->save(Snapshot{1'700'000'000'000, 42, engine}));
  ASSERT_TRUE(store->save(Snapshot{1'700'000'060'000, 43, "second"}));
  auto loaded = store->load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->anchor, 1'700'000'060'000);
  EXPECT_EQ((*loaded)->written_at, 43);
  EXPECT_EQ((*loaded)->engine_state, "second");
  EXPECT_FALSE(std::filesystem::exists(store->snapshot_path() + ".tmp"));
}

TEST(StateStore, TruncatedDamagedOrForeignSnapshotsAreRefused) {
  testing::TempDir dir;
  auto store = StateStore::open(dir / "state", plan_named("a"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->save(Snapshot{5, 6, std::string(1000, 'x')}));
  const std::string path = store->snapshot_path();
  const std::string good = slurp(path);

  spit(path, good.substr(0, good.size() - 10));
  auto truncated = store->load();
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find(path), std::string::npos);
  EXPECT_NE(truncated.error().message.find("truncated"), std::string::npos) << truncated.error().message;

  std::string damaged = good;
  damaged[damaged.size() / 2] ^= 0x40;
  spit(path, damaged);
  auto bad = store->load();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("checksum"), std::string::npos) << bad.error().message;

  spit(path, "garbage");
  auto garbage = store->load();
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("bad header"), std::string::npos) << garbage.error().message;

  spit(path, good);
  auto other = StateStore::open(dir / "state", plan_named("b"));
  ASSERT_TRUE(other);
  auto foreign = other->load();
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("different pipeline"), std::string::npos) << foreign.error().message;
  EXPECT_TRUE(store->load()) << "the same plan still reads it";
}

TEST(StateStore, AFileWhereTheDirectoryShouldBeIsNamed) {
  testing::TempDir dir;
  spit(dir / "file", "x");
  auto store = StateStore::open(dir / "file", plan_named("a"));
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("--state-dir " + (dir / "file")), std::string::npos) << store.error().message;
}

// A snapshot that cannot be written (issue 12 item 3): the writer counts it, keeps
// the previous snapshot and says why through last_status(), which the live
// service turns into /healthz and its exit code. Here the state directory was
// replaced by a file under the running service.
TEST(SnapshotWriter, AFailedWriteIsCountedAndItsReasonKept) {
  testing::TempDir dir;
  const std::string state = dir / "state";
  auto store = StateStore::open(state, plan_named("a"));
  ASSERT_TRUE(store) << store.error().message;
  SnapshotWriter writer(*store);
  writer.submit(Snapshot{1, 2, "engine"});
  writer.close();
  EXPECT_TRUE(writer.last_status().ok());
  EXPECT_EQ(writer.written(), 1u);
  const int64_t good_at = writer.last_written_ms();
  EXPECT_GT(good_at, 0);

  std::filesystem::remove_all(state);
  spit(state, "not a directory");
  SnapshotWriter failing(*store);
  failing.submit(Snapshot{1, 3, "engine"});
  failing.close();
  const Status st = failing.last_status();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, state + "/snapshot.bin.tmp: cannot create: Not a directory");
  EXPECT_EQ(failing.failed(), 1u);
  EXPECT_EQ(failing.written(), 0u);
  EXPECT_EQ(failing.last_written_ms(), 0);
}

}  // namespace
}  // namespace af::service
