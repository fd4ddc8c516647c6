// `--shard K/N` through the binary (issue 14 item 3): the shards of a replay
// together write exactly the unsharded replay's predictions (each once, values
// byte-equal), each shard only its symbols; a pipeline that needs every symbol at
// once is refused with the step located, by `replay`, `signal` and `validate`; a
// shard that owns no symbol and a malformed K/N are usage errors (exit 2).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/process.hpp"

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Which shard owns each symbol, computed apart from the engine (python3, FNV-1a
// 64 of the symbol's bytes; see tests/unit/common/shard_test.cpp):
//   shard of N = h % N + 1 -> N=2: BTC 1, ETH 1, LTC 1, SOL 2, LINK 2
//                             N=3: BTC 1, ETH 1, LINK 2, SOL 3, LTC 3
const std::map<int, std::vector<std::set<std::string>>> kOwners = {
    {2, {{"BTCUSDT", "ETHUSDT", "LTCUSDT"}, {"SOLUSDT", "LINKUSDT"}}},
    {3, {{"BTCUSDT", "ETHUSDT"}, {"LINKUSDT"}, {"SOLUSDT", "LTCUSDT"}}},
};

// `universe` as YAML list items; `transform` is inserted after the data step
// (line 11 on), its frame the model's.
std::string pipeline(const std::string& universe, const std::string& csv, const std::string& transform = "") {
  const std::string frame = transform.empty() ? "ohlcv" : "aligned";
  return R"(name: sharded
signal_generation:
  warmup: {lookback_days: 3}
  scheduling: {interval: 1h}
  on_prediction:
    - {using: sinks.csv_append, params: {path: )" + csv + R"(}}
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params: {universe: [)" + universe + R"(], interval: 1h}
)" + transform + R"(  - features:
      using: features.rsi
      inputs: {column: )" + frame + R"(.close}
      outputs: {columns: [rsi_14]}
      params: {window: 14}
  - features:
      using: features.obv
      inputs: {frame: )" + frame + R"(}
      outputs: {columns: [obv]}
  - model:
      using: models.linear
      inputs: {frame: )" + frame + R"(}
      outputs: {columns: [model.prediction]}
      params: {features: [rsi_14, obv], weights: [-0.04, 0.000001], bias: 2.0, activation: tanh}
)";
}

const std::string kAlign = R"(  - transform:
      using: transforms.align
      inputs: {frame: ohlcv}
      outputs: {frame: aligned}
)";

using Key = std::pair<std::string, std::string>;  // (ts, symbol)

class Shard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto gen = run_command(kBinary + " synth-data --out " + (*dir_ / "mirror") +
                           " --symbols BTCUSDT,ETHUSDT,SOLUSDT,LINKUSDT,LTCUSDT --interval 1h --from 2024-01-01"
                           " --to 2024-01-15 --seed 7");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(const std::string& name) { return *dir_ / name; }

  // Replays `yaml` (written to TAG.yaml, writing TAG.csv) with `flags`.
  static testing::CommandResult replay(const std::string& tag, const std::string& flags,
                                       const std::string& universe = kUniverse) {
    write_file(path(tag + ".yaml"), pipeline(universe, path(tag + ".csv")));
    return run_command(kBinary + " replay " + path(tag + ".yaml") + " --data " + path("mirror") + " " + flags);
  }

  // (ts, symbol) -> prediction as the CSV sink wrote it; `duplicates` counts keys seen twice.
  static std::map<Key, std::string> rows(const std::string& csv, size_t& duplicates) {
    std::map<Key, std::string> out;
    const auto lines = split_lines(read_file(csv));
    for (size_t i = 1; i < lines.size(); ++i) {
      const auto f = split(lines[i], ',');
      if (f.size() < 3) continue;
      if (!out.emplace(Key{f[0], f[1]}, f[2]).second) ++duplicates;
    }
    return out;
  }

  static constexpr const char* kUniverse = "BTCUSDT, ETHUSDT, SOLUSDT, LINKUSDT, LTCUSDT";
  static TempDir* dir_;
};

TempDir* Shard::dir_ = nullptr;

TEST_F(Shard, UnionOfTheShardsReplaysEqualsTheUnshardedReplay) {
  auto whole = replay("whole", "");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  size_t duplicates = 0;
  const auto expected = rows(path("whole.csv"), duplicates);
  ASSERT_EQ(duplicates, 0u);
  std::set<std::string> symbols;
  for (const auto& [key, value] : expected) symbols.insert(key.second);
  ASSERT_EQ(symbols.size(), 5u) << "every symbol predicts unsharded";
  ASSERT_GT(expected.size(), 5u * 100);

  for (const auto& [n, owners] : kOwners) {
    std::map<Key, std::string> together;
    size_t twice = 0;
    for (int k = 1; k <= n; ++k) {
      const std::string spec = std::to_string(k) + "/" + std::to_string(n);
      const std::string tag = "shard_" + std::to_string(k) + "_of_" + std::to_string(n);
      auto r = replay(tag, "--shard " + spec);
      ASSERT_EQ(r.exit_code, 0) << spec << ": " << r.err;
      EXPECT_TRUE(contains(r.out, "replay sharded shard " + spec + ": anchor=")) << r.out;
      size_t dups = 0;
      std::set<std::string> seen;
      for (const auto& [key, value] : rows(path(tag + ".csv"), dups)) {
        seen.insert(key.second);
        if (!together.emplace(key, value).second) ++twice;
      }
      EXPECT_EQ(dups, 0u) << spec;
      EXPECT_EQ(seen, owners[static_cast<size_t>(k - 1)]) << spec << " predicts exactly the symbols it owns";
    }
    EXPECT_EQ(twice, 0u) << "N=" << n << ": a prediction made by two shards";
    EXPECT_EQ(together.size(), expected.size()) << "N=" << n;
    EXPECT_TRUE(together == expected) << "N=" << n << ": the shards' predictions differ from the unsharded run's";
  }
}

TEST_F(Shard, ValidatePrintsTheShardsPlan) {
  write_file(path("v.yaml"), pipeline(kUniverse, path("v.csv")));
  auto r = run_command(kBinary + " validate " + path("v.yaml") + " --shard 3/3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "universe [SOLUSDT, LTCUSDT]")) << r.out;
  EXPECT_TRUE(contains(r.out, "shard 3/3: the universes above are its symbols\n")) << r.out;
  auto j = run_command(kBinary + " validate " + path("v.yaml") + " --shard 2/3 --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_TRUE(contains(j.out, "\"shard\": \"2/3\"")) << j.out;
  EXPECT_TRUE(contains(j.out, "\"universe\": [\n        \"LINKUSDT\"\n      ]")) << j.out;
}

TEST_F(Shard, APipelineThatNeedsEverySymbolIsRefusedWithTheStepLocated) {
  const std::string yaml = path("align.yaml");
  write_file(yaml, pipeline(kUniverse, path("align.csv"), kAlign));
  auto plain = run_command(kBinary + " validate " + yaml);
  ASSERT_EQ(plain.exit_code, 0) << "unsharded, the same pipeline is valid: " << plain.err;

  const std::string expected = yaml +
                               ":12:5: error: pipeline[1].transform: `transforms.align` needs every symbol at once "
                               "(its rows for one symbol depend on the others' bars), so this pipeline cannot run "
                               "with --shard 1/2; run it unsharded\n";
  auto v = run_command(kBinary + " validate " + yaml + " --shard 1/2");
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_TRUE(contains(v.err, expected)) << v.err;
  auto vj = run_command(kBinary + " validate " + yaml + " --shard 1/2 --json");
  EXPECT_EQ(vj.exit_code, 2);
  EXPECT_TRUE(contains(vj.out, "\"path\": \"pipeline[1].transform\"")) << vj.out;
  auto r = run_command(kBinary + " replay " + yaml + " --data " + path("mirror") + " --shard 1/2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, expected)) << r.err;
  // Refused before any connection: the Binance URL is a closed port.
  auto s = run_command(kBinary + " signal " + yaml + " --shard 1/2 --binance-base-url http://127.0.0.1:9");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_TRUE(contains(s.err, expected)) << s.err;

  // The property comes from the descriptor, and `plugins` shows it.
  auto p = run_command(kBinary + " plugins");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto align = p.out.find("  transforms.align  ");
  const auto next = p.out.find("  transforms.resample  ");
  ASSERT_NE(align, std::string::npos) << p.out;
  ASSERT_NE(next, std::string::npos) << p.out;
  const std::string line = "needs every symbol at once: a pipeline with this step cannot run with --shard K/N";
  EXPECT_TRUE(contains(p.out.substr(align, next - align), line)) << p.out;
  EXPECT_FALSE(contains(p.out.substr(next), line)) << p.out;
}

TEST_F(Shard, AShardThatOwnsNoSymbolIsRefused) {
  auto r = replay("none", "--shard 2/2", "BTCUSDT, ETHUSDT");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, path("none.yaml") +
                                  ":8:5: error: pipeline[0].data.params.universe: shard 2/2 owns none of the "
                                  "pipeline's 2 symbols (BTCUSDT on shard 1, ETHUSDT on shard 1); run fewer shards "
                                  "or list more symbols\n"))
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("none.csv"))) << "nothing ran";
}

// Two data steps: shard 2/2 owns SOLUSDT of the first and nothing of the
// second, whose frame would stay empty.
TEST_F(Shard, AShardOwningNoneOfOneDataStepsSymbolsIsRefusedAtThatStep) {
  const std::string yaml = path("two.yaml");
  write_file(yaml, R"(name: two
signal_generation:
  warmup: {lookback_days: 3}
  scheduling: {interval: 1h}
  on_prediction:
    - {using: sinks.csv_append, params: {path: )" + path("two.csv") + R"(}}
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: fut}
      params: {universe: [BTCUSDT, SOLUSDT], interval: 1h}
  - data:
      using: data.binance_spot
      outputs: {frame: spot}
      params: {universe: [ETHUSDT], interval: 1h}
  - features:
      using: features.rsi
      inputs: {column: fut.close}
      outputs: {columns: [rsi_14]}
      params: {window: 14}
  - model:
      using: models.linear
      inputs: {frame: fut}
      outputs: {columns: [model.prediction]}
      params: {features: [rsi_14], weights: [-0.04], bias: 2.0}
)");
  auto one = run_command(kBinary + " validate " + yaml + " --shard 1/2");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_TRUE(contains(one.out, "data.binance_futures -> fut (1h): universe [BTCUSDT],")) << one.out;
  EXPECT_TRUE(contains(one.out, "data.binance_spot -> spot (1h): universe [ETHUSDT],")) << one.out;
  auto two = run_command(kBinary + " validate " + yaml + " --shard 2/2");
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_TRUE(contains(two.err, yaml + ":12:5: error: pipeline[1].data.params.universe: shard 2/2 owns none of this "
                                       "data step's 1 symbol (ETHUSDT on shard 1), so its frame would stay empty; "
                                       "run fewer shards\n"))
      << two.err;
}

TEST_F(Shard, AMalformedShardIsAUsageError) {
  write_file(path("u.yaml"), pipeline(kUniverse, path("u.csv")));
  const std::map<std::string, std::string> cases = {
      {"0/2", "'0/2': K counts from 1 (the shards are 1/N to N/N)"},
      {"3/2", "'3/2': K is 3 but there are only 2 shards (K counts from 1 to N)"},
      {"2/0", "'2/0': N must be at least 1 (N is the number of shards)"},
      {"x/y", "'x/y': expected K/N, two whole numbers with 1 <= K <= N (for example 1/4)"},
      {"1/99999999999999999999", "'1/99999999999999999999': N is larger than 4096, the most shards supported"},
  };
  const std::vector<std::string> commands = {"validate " + path("u.yaml"),
                                             "replay " + path("u.yaml") + " --data " + path("mirror"),
                                             "signal " + path("u.yaml")};
  for (const auto& [spec, message] : cases) {
    for (const auto& command : commands) {
      auto r = run_command(kBinary + " " + command + " --shard " + spec);
      EXPECT_EQ(r.exit_code, 2) << command << " --shard " << spec;
      EXPECT_TRUE(contains(r.err, "--shard: " + message)) << command << " --shard " << spec << ": " << r.err;
    }
  }
}

}  // namespace
}  // namespace af
