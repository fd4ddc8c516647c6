// `replay --threads N` (issue 15 item 2) through the binary: with 1, 2 and 7
// threads the CSV sink receives the same rows in the same order (every column but
// the wall-clock emitted_at, byte for byte) and --print the same lines, on the
// example pipelines (one with 15m -> 2h resampling and the BiLSTM), on timer and
// signal.generated events with a symbol whose bars stop early, with gaps (bridged,
// and `--gap-policy fail`, which must stop at the same gap after the same
// records); a pipeline with `transforms.align` and a replay with --dump stay on
// one thread and say why; a bad thread count is a usage error, and so is
// `signal --threads` (the live service computes on one thread).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/fnv1a.hpp"
#include "support/process.hpp"

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::split_lines;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;
const std::string kSourceRoot = AF_SOURCE_ROOT;

const std::vector<std::string> kSymbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "LTCUSDT",
                                           "LINKUSDT", "BNBUSDT", "ADAUSDT", "DOGEUSDT"};
// The 15m mirror of the BiLSTM example (its own universe is kExampleUniverse).
const std::vector<std::string> kQuarterSymbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT",
                                                  "BNBUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT"};
const std::string kExampleUniverse = "universe: [BTCUSDT, ETHUSDT, SOLUSDT, XRPUSDT]";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// How many threads own a symbol among `n` (fnv1a_64 % n, the rule of
// docs/operations.md), computed here apart from the engine.
size_t threads_used(const std::vector<std::string>& symbols, uint32_t n) {
  std::set<uint64_t> owners;
  for (const auto& s : symbols) owners.insert(fnv1a_64(s) % n);
  return owners.size();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Removes the mirror's files (archive and checksum) whose names start with one of
// `prefixes`; returns how many.
size_t remove_months(const std::filesystem::path& mirror, const std::vector<std::string>& prefixes) {
  std::vector<std::filesystem::path> doomed;
  for (const auto& e : std::filesystem::recursive_directory_iterator(mirror)) {
    const std::string name = e.path().filename().string();
    for (const auto& p : prefixes)
      if (name.rfind(p, 0) == 0) doomed.push_back(e.path());
  }
  for (const auto& p : doomed) std::filesystem::remove(p);
  return doomed.size();
}

struct ReplayRun {
  int exit_code = -1;
  std::string out;   // stdout without the summary's timing
  std::string csv;   // the sink's file without emitted_at
  std::string err;
  std::string threads;  // the summary's threads=
};

class Threads : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto hourly = run_command(kBinary + " synth-data --out " + (*dir_ / "mirror") + " --symbols " +
                              replace_all(join(kSymbols), ", ", ",") +
                              " --interval 1h --from 2025-01-01 --to 2025-04-01 --seed 11");
    ASSERT_EQ(hourly.exit_code, 0) << hourly.err;
    auto quarter = run_command(kBinary + " synth-data --out " + (*dir_ / "mirror") +
                               " --symbols " + replace_all(join(kQuarterSymbols), ", ", ",") + " --interval 15m --from 2025-01-01"
                               " --to 2025-04-11 --seed 12");
    ASSERT_EQ(quarter.exit_code, 0) << quarter.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(const std::string& name) { return *dir_ / name; }

  // Replays `yaml` (its sink path written as @CSV@) from the source root (the
  // examples' checkpoint paths are relative to it) with `--threads threads`.
  static ReplayRun replay(const std::string& tag, const std::string& yaml, const std::string& threads,
                          const std::string& flags, const std::string& mirror = "mirror") {
    const std::string csv = path(tag + "_" + threads + ".csv");
    const std::string file = path(tag + "_" + threads + ".yaml");
    write_file(file, replace_all(yaml, "@CSV@", csv));
    auto r = run_command("cd " + kSourceRoot + " && " + kBinary + " replay " + file + " --data " + path(mirror) +
                         " --print --fresh --threads " + threads + " " + flags);
    ReplayRun out;
    out.exit_code = r.exit_code;
    out.err = r.err;
    for (const auto& line : split_lines(r.out)) {
      if (line.rfind("replay ", 0) == 0 && contains(line, " seconds=")) {
        const auto t = line.find(" threads=");
        if (t != std::string::npos) out.threads = line.substr(t + 9);
        out.out += line.substr(0, line.find(" seconds=")) + '\n';
      } else {
        out.out += line + '\n';
      }
    }
    if (std::filesystem::exists(csv)) {
      for (const auto& line : split_lines(read_file(csv))) out.csv += line.substr(0, line.rfind(',')) + '\n';
    }
    return out;
  }

  // Every thread count gives what one thread gives; returns the one-thread run.
  static ReplayRun expect_identical(const std::string& tag, const std::string& yaml, const std::string& flags,
                                    const std::vector<std::string>& universe, bool one_thread = false,
                                    const std::string& mirror = "mirror") {
    const ReplayRun one = replay(tag, yaml, "1", flags, mirror);
    // A run that fails prints no summary line (so no threads=).
    if (one.exit_code == 0) {
      EXPECT_EQ(one.threads, "1") << one.out;
    }
    for (const uint32_t n : {2u, 7u}) {
      const ReplayRun many = replay(tag, yaml, std::to_string(n), flags, mirror);
      const std::string expected_threads = one_thread ? "1" : std::to_string(threads_used(universe, n));
      if (one.exit_code == 0) {
        EXPECT_EQ(many.threads, expected_threads) << tag << " --threads " << n << ": " << many.out << many.err;
      }
      EXPECT_EQ(many.exit_code, one.exit_code) << tag << " --threads " << n << ": " << many.err;
      EXPECT_TRUE(many.out == one.out) << tag << " --threads " << n << ": stdout differs from --threads 1";
      EXPECT_TRUE(many.csv == one.csv) << tag << " --threads " << n << ": the CSV differs from --threads 1";
      if (one.exit_code != 0) {
        const auto last_line = [](const std::string& err) {
          const auto lines = split_lines(err);
          return lines.empty() ? std::string() : lines.back();
        };
        EXPECT_EQ(last_line(many.err), last_line(one.err)) << tag << " --threads " << n;
      }
    }
    return one;
  }

  static TempDir* dir_;
};

TempDir* Threads::dir_ = nullptr;

// The shipped minimal pipeline over nine symbols (two thread counts split them
// 4/5 and into 5 parts), and the BiLSTM example (15m bars resampled to 2h, its
// shipped checkpoint) over its own four.
TEST_F(Threads, ExamplePipelinesGiveTheSameBytesWith1_2And7Threads) {
  std::string minimal = read_file(kSourceRoot + "/examples/08_signal_generation/minimal_offline.yaml");
  ASSERT_TRUE(contains(minimal, "universe: [BTCUSDT, ETHUSDT]"));
  minimal = replace_all(minimal, "universe: [BTCUSDT, ETHUSDT]", "universe: [" + join(kSymbols) + "]");
  minimal = replace_all(minimal, "outputs/predictions/minimal_offline.csv", "@CSV@");
  const ReplayRun m = expect_identical("minimal", minimal, "--from 2025-02-01", kSymbols);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_GT(split_lines(m.csv).size(), 9u * 24 * 50) << "predictions for every symbol and streamed bar";

  std::string bilstm = read_file(kSourceRoot + "/examples/models/bilstm_example.yaml");
  ASSERT_TRUE(contains(bilstm, "outputs/predictions/bilstm_example.csv"));
  bilstm = replace_all(bilstm, "outputs/predictions/bilstm_example.csv", "@CSV@");
  // Eight symbols, so that each thread count splits them: a 2h close defers the
  // model runs of every symbol for one batch (Engine::flush_models), and the
  // records of a thread's batch must go back between the other threads' records.
  ASSERT_TRUE(contains(bilstm, kExampleUniverse));
  bilstm = replace_all(bilstm, kExampleUniverse, "universe: [" + join(kQuarterSymbols) + "]");
  const ReplayRun b = expect_identical("bilstm", bilstm, "--from 2025-04-01", kQuarterSymbols);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_GT(split_lines(b.csv).size(), 8u * 12 * 9) << "a 2h prediction per symbol from 2025-04-01 to 04-11";
}

// A model on a 2h timer and a second one on signal.generated; LTCUSDT's bars stop
// at the end of January (its timer still ticks until the clock stops at the
// newest close of all symbols, which is another thread's), ETHUSDT misses
// February (a gap, bridged), XRPUSDT and BNBUSDT start in February (with 7
// threads they are one thread's only symbols). Without --from: the anchor is the
// earliest bar of all plus the lookback, whichever thread has it.
TEST_F(Threads, TimersSignalGeneratedAndGapsGiveTheSameBytes) {
  const std::string mirror = "events_mirror";
  std::filesystem::copy(path("mirror"), path(mirror), std::filesystem::copy_options::recursive);
  ASSERT_GE(remove_months(path(mirror),
                          {"LTCUSDT-1h-2025-02", "LTCUSDT-1h-2025-03", "ETHUSDT-1h-2025-02", "XRPUSDT-1h-2025-01",
                           "BNBUSDT-1h-2025-01"}),
            5u);
  const std::string yaml = R"(name: events
signal_generation:
  warmup: {lookback_days: 10}
  scheduling: {buffer_minutes: 5}
  on_prediction:
    - {using: sinks.csv_append, params: {path: @CSV@}}
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params: {universe: [)" + join(kSymbols) + R"(], interval: 1h}
  - features:
      using: features.momentum
      inputs: {column: ohlcv.close}
      outputs: {columns: [mom_5]}
      params: {window: 5}
  - model:
      using: models.linear
      on: timer.2h
      inputs: {frame: ohlcv}
      outputs: {columns: [stage1]}
      params: {features: [mom_5], weights: [3.0]}
  - model:
      using: models.linear
      on: signal.generated
      inputs: {frame: ohlcv}
      outputs: {columns: [prediction]}
      params: {features: [stage1], weights: [2.0], bias: 1.0, output_col: prediction}
)";
  const ReplayRun r = expect_identical("events", yaml, "", kSymbols, false, mirror);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, " gaps=1 ")) << r.out;
  EXPECT_TRUE(contains(r.out, ": anchor=2025-01-11T00:00:00Z ")) << r.out;
  EXPECT_TRUE(contains(r.csv, "LTCUSDT")) << "the symbol whose bars stop predicts on its timer";

  // --gap-policy fail, SOLUSDT missing February too: both gaps are found at the
  // first bar of March, ETHUSDT's first (it comes first in the universe), so every
  // thread count stops there, after the same records (SOLUSDT runs on another
  // thread than ETHUSDT with 2 threads).
  ASSERT_GE(remove_months(path(mirror), {"SOLUSDT-1h-2025-02"}), 1u);
  const ReplayRun f = expect_identical("events_fail", yaml, "--from 2025-01-20 --to 2025-03-20 --gap-policy fail",
                                 kSymbols, false, mirror);
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_TRUE(contains(f.err, "ETHUSDT misses")) << f.err;
  EXPECT_GT(split_lines(f.csv).size(), 9u * 12 * 5) << "the records before the gap are delivered";
}

TEST_F(Threads, APipelineWithAlignRunsOnOneThreadAndSaysWhy) {
  const std::string yaml = R"(name: aligned
signal_generation:
  warmup: {lookback_days: 5}
  scheduling: {interval: 1h}
  on_prediction:
    - {using: sinks.csv_append, params: {path: @CSV@}}
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params: {universe: [)" + join(kSymbols) + R"(], interval: 1h}
  - transform:
      using: transforms.align
      inputs: {frame: ohlcv}
      outputs: {frame: aligned}
  - features:
      using: features.rsi
      inputs: {column: aligned.close}
      outputs: {columns: [rsi_14]}
      params: {window: 14}
  - model:
      using: models.linear
      inputs: {frame: aligned}
      outputs: {columns: [model.prediction]}
      params: {features: [rsi_14], weights: [-0.04], bias: 2.0, activation: tanh}
)";
  const ReplayRun r = expect_identical("aligned", yaml, "--from 2025-02-01 --to 2025-02-10", kSymbols, true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ReplayRun two = replay("aligned", yaml, "2", "--from 2025-02-01 --to 2025-02-10");
  EXPECT_TRUE(contains(two.err, "note: replay runs on one thread: `transforms.align` (pipeline[1].transform) needs "
                                "every symbol at once\n"))
      << two.err;
}

TEST_F(Threads, DumpRunsOnOneThreadAndSaysWhy) {
  std::string minimal = read_file(kSourceRoot + "/examples/08_signal_generation/minimal_offline.yaml");
  minimal = replace_all(minimal, "universe: [BTCUSDT, ETHUSDT]", "universe: [" + join(kSymbols) + "]");
  minimal = replace_all(minimal, "outputs/predictions/minimal_offline.csv", "@CSV@");
  const ReplayRun r = replay("dump", minimal, "2", "--from 2025-03-01 --dump ohlcv=" + path("dump.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.threads, "1");
  EXPECT_TRUE(contains(r.err, "note: replay runs on one thread: --dump writes a frame's rows in the order one thread "
                              "makes them\n"))
      << r.err;
}

TEST_F(Threads, ABadThreadCountIsAUsageError) {
  const std::string yaml = kSourceRoot + "/examples/08_signal_generation/minimal_offline.yaml";
  for (const std::string bad : {"0", "abc", "1.5"}) {
    auto r = run_command(kBinary + " replay " + yaml + " --data " + path("mirror") + " --threads " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "--threads")) << bad << ": " << r.err;
  }
}

}  // namespace
}  // namespace af
