// timer.<interval> and signal.generated (issue 16 item 5, DESIGN §2) end to end
// through `alpha_forge replay`: a model on a 2h timer predicts at every tick for
// every symbol, also one whose bars stop (from its last row, labelled with the
// tick's bar); a second-stage model on signal.generated emits exactly what the
// same model placed after the first one in the bar's flow emits.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "common/time.hpp"
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
constexpr int64_t kHourMs = 3'600'000;

using Rows = std::map<std::pair<std::string, int64_t>, double>;  // (symbol, ts) -> value

// A CSV whose first two fields are ts (ISO-8601) and symbol; `column` picks the value.
Rows read_rows(const std::string& path, const std::string& column) {
  Rows out;
  const auto lines = split_lines(read_file(path));
  if (lines.empty()) return out;
  const auto header = split(lines[0], ',');
  size_t col = 0;
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == column) col = i;
  EXPECT_NE(col, 0u) << "no column " << column << " in " << lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    const auto ts = parse_iso8601(f.at(0));
    EXPECT_TRUE(ts) << f.at(0);
    const double v = f.at(col).empty() || f.at(col) == "nan" ? NAN : std::stod(f.at(col));
    EXPECT_TRUE(out.emplace(std::make_pair(f.at(1), ts.value_or(0)), v).second) << "duplicate " << lines[i];
  }
  return out;
}

std::string pipeline(const std::string& name, const std::string& csv, const std::string& models) {
  return "name: " + name + R"(
signal_generation:
  warmup:
    lookback_days: 10
  scheduling:
    buffer_minutes: 5
  on_prediction:
    - using: sinks.csv_append
      params:
        path: )" + csv + R"(
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params: {universe: [AAAUSDT, BBBUSDT], interval: 1h}
  - features:
      using: features.momentum
      inputs: {column: ohlcv.close}
      outputs: {columns: [mom_5]}
      params: {window: 5}
)" + models;
}

class ReplayEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    auto gen = run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                           " --symbols AAAUSDT,BBBUSDT --interval 1h --from 2025-01-01 --to 2025-03-01 --seed 5");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
  }
  testing::CommandResult replay(const std::string& name, const std::string& models, const std::string& csv) {
    write_file(dir_ / (name + ".yaml"), pipeline(name, csv, models));
    return run_command(kBinary + " replay " + (dir_ / (name + ".yaml")) + " --data " + (dir_ / "mirror") +
                       " --from 2025-01-20 --dump ohlcv=" + (dir_ / (name + ".dump.csv")));
  }
  TempDir dir_;
};

TEST_F(ReplayEvents, TimerModelPredictsAtEveryTickAlsoForASymbolWhoseBarsStop) {
  // BBBUSDT has no bars after January: its February archive is gone.
  size_t removed = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ / "mirror"))
    if (e.path().filename().string().find("BBBUSDT-1h-2025-02") != std::string::npos) {
      std::filesystem::remove(e.path());
      ++removed;
      break;
    }
  ASSERT_EQ(removed, 1u);
  const std::string csv = dir_ / "timer.csv";
  auto r = replay("timer_dag", R"(  - model:
      using: models.linear
      on: timer.2h
      inputs: {frame: ohlcv}
      outputs: {columns: [prediction]}
      params: {features: [mom_5], weights: [3.0], output_col: prediction}
)",
                  csv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Rows predictions = read_rows(csv, "prediction");
  const Rows mom = read_rows(dir_ / "timer_dag.dump.csv", "mom_5");
  const int64_t from = *parse_iso8601("2025-01-20T00:00:00Z");
  const int64_t bbb_last = *parse_iso8601("2025-01-31T23:00:00Z");
  // Ticks at every even hour + 5 min; each labelled with the 1h bar that closed
  // at the boundary (odd hours), the last one at 2025-02-28T22:05 (the clock
  // stops at the last bar's close, 2025-03-01T00:00).
  for (const std::string sym : {"AAAUSDT", "BBBUSDT"}) {
    std::vector<int64_t> ts;
    for (const auto& [key, v] : predictions)
      if (key.first == sym) ts.push_back(key.second);
    ASSERT_FALSE(ts.empty()) << sym;
    EXPECT_EQ(ts.front(), from + kHourMs) << sym;
    EXPECT_EQ(ts.back(), *parse_iso8601("2025-02-28T21:00:00Z")) << sym;
    EXPECT_EQ(ts.size(), static_cast<size_t>((ts.back() - ts.front()) / (2 * kHourMs) + 1)) << sym << ": a tick missed";
  }
  for (const auto& [key, v] : predictions) {
    const auto& [sym, ts] = key;
    // From the row the tick saw: the tick's bar, or BBBUSDT's last one after its bars stop.
    const int64_t row = sym == "BBBUSDT" ? std::min(ts, bbb_last) : ts;
    const auto m = mom.find({sym, row});
    ASSERT_TRUE(m != mom.end()) << sym << " " << format_iso8601(row);
    EXPECT_NEAR(v, 3.0 * m->second, 1e-12 * std::max(1.0, std::fabs(v))) << sym << " " << format_iso8601(ts);
  }
  // BBBUSDT in February: a record every 2h, all from its last January row.
  const double last = predictions.at({"BBBUSDT", bbb_last});
  size_t february = 0;
  for (const auto& [key, v] : predictions)
    if (key.first == "BBBUSDT" && key.second > bbb_last) {
      ++february;
      EXPECT_EQ(v, last) << format_iso8601(key.second);
    }
  EXPECT_EQ(february, 28u * 12 - 1);  // 2025-02-01T01:00 .. 2025-02-28T21:00 every 2h
}

TEST_F(ReplayEvents, SecondStageOnSignalGeneratedEqualsTheSameModelInTheBarsFlow) {
  const std::string stage1 = R"(  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [stage1]}
      params: {features: [mom_5], weights: [3.0]}
)";
  const std::string on_signal = stage1 + R"(  - model:
      using: models.linear
      on: signal.generated
      inputs: {frame: ohlcv}
      outputs: {columns: [prediction]}
      params: {features: [stage1], weights: [2.0], bias: 1.0, output_col: prediction}
)";
  const std::string in_flow = stage1 + R"(  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [prediction]}
      params: {features: [stage1], weights: [2.0], bias: 1.0, output_col: prediction}
)";
  auto a = replay("signal_dag", on_signal, dir_ / "signal.csv");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = replay("flow_dag", in_flow, dir_ / "flow.csv");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const Rows chained = read_rows(dir_ / "signal.csv", "prediction");
  const Rows flowed = read_rows(dir_ / "flow.csv", "prediction");
  ASSERT_GT(chained.size(), 2u * 24 * 30);  // both symbols, every bar from 2025-01-20
  EXPECT_EQ(chained, flowed);
  // And each is 2 x stage1 + 1 of its row, the row the dump shows.
  const Rows s1 = read_rows(dir_ / "signal_dag.dump.csv", "stage1");
  for (const auto& [key, v] : chained) {
    const auto it = s1.find(key);
    ASSERT_TRUE(it != s1.end());
    EXPECT_NEAR(v, 2.0 * it->second + 1.0, 1e-12 * std::max(1.0, std::fabs(v)));
  }
}

}  // namespace
}  // namespace af
