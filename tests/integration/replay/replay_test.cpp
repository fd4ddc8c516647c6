// End to end: the alpha_forge binary replays a momentum + RSI + linear pipeline
// over a Binance Vision mirror (generated here, and the real one when present),
// and what it writes is checked against independent computations.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "support/process.hpp"

#ifdef AF_HAVE_TALIB
#include <ta_libc.h>
#endif

namespace af {
namespace {

using testing::read_file;
using testing::run_command;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::write_file;

const std::string kBinary = AF_BINARY;

std::string pipeline_yaml(const std::string& name, const std::string& symbols, const std::string& csv_path) {
  return "name: " + name + R"(
signal_generation:
  mode: stream
  warmup:
    lookback_days: 30
  scheduling:
    interval: 1h
    buffer_minutes: 2
  on_prediction:
    - using: sinks.csv_append
      params:
        path: )" + csv_path + R"(
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params:
        universe: [)" + symbols + R"(]
        interval: 1h
  - features:
      using: features.momentum
      inputs: {column: ohlcv.close}
      outputs: {columns: [mom_20]}
      params: {window: 20}
  - features:
      using: features.rsi
      inputs: {column: ohlcv.close}
      outputs: {columns: [rsi_14]}
      params: {window: 14}
  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [model.prediction]}
      params:
        features: [mom_20, rsi_14]
        weights: [-5.0, -0.04]
        bias: 2.0
        activation: tanh
)";
}

// A CSV file with a header, as rows of name -> text.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  size_t col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
};

Table read_csv(const std::string& path) {
  Table t;
  auto lines = split_lines(read_file(path));
  if (lines.empty()) return t;
  t.header = split(lines[0], ',');
  for (size_t i = 1; i < lines.size(); ++i) t.rows.push_back(split(lines[i], ','));
  return t;
}

double num(const std::string& s) { return s.empty() ? std::nan("") : std::stod(s); }

// Wilder's RSI written plainly: the reference, independent of features/rsi.cpp.
std::vector<double> naive_rsi(const std::vector<double>& x, int n) {
  std::vector<double> out(x.size(), std::nan(""));
  if (static_cast<int>(x.size()) <= n) return out;
  double gain = 0, loss = 0;
  for (int i = 1; i <= n; ++i) {
    const double d = x[i] - x[i - 1];
    (d > 0 ? gain : loss) += std::fabs(d);
  }
  gain /= n;
  loss /= n;
  auto rsi = [](double g, double l) { return g + l == 0 ? 0.0 : 100 * g / (g + l); };
  out[n] = rsi(gain, loss);
  for (size_t i = n + 1; i < x.size(); ++i) {
    const double d = x[i] - x[i - 1];
    gain = (gain * (n - 1) + (d > 0 ? d : 0)) / n;
    loss = (loss * (n - 1) + (d < 0 ? -d : 0)) / n;
    out[i] = rsi(gain, loss);
  }
  return out;
}

bool close_enough(double a, double b, double rel) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= rel * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

struct Checked {
  size_t predictions = 0;
  size_t dump_rows = 0;
};

// Checks the dump's RSI against the naive RSI (and TA-Lib when linked), the
// predictions against the linear model applied to the dump's rows, and that
// predictions are in ts order per symbol, once each, all at or after `from`.
Checked check_outputs(const std::string& dump_path, const std::string& csv_path, const std::string& from_iso) {
  Checked c;
  Table dump = read_csv(dump_path);
  Table preds = read_csv(csv_path);
  c.dump_rows = dump.rows.size();
  c.predictions = preds.rows.size();
  EXPECT_EQ(preds.header, (std::vector<std::string>{"ts", "symbol", "prediction", "dag_name", "frame", "column",
                                                    "emitted_at"}));

  std::map<std::string, std::vector<double>> closes, rsis;
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> features;  // (ts,sym) -> mom, rsi
  for (const auto& r : dump.rows) {
    closes[r[dump.col("symbol")]].push_back(num(r[dump.col("close")]));
    rsis[r[dump.col("symbol")]].push_back(num(r[dump.col("rsi_14")]));
    features[{r[dump.col("ts")], r[dump.col("symbol")]}] = {num(r[dump.col("mom_20")]), num(r[dump.col("rsi_14")])};
  }
  for (const auto& [sym, x] : closes) {
    const auto ref = naive_rsi(x, 14);
    size_t valid = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_TRUE(close_enough(rsis[sym][i], ref[i], 1e-12)) << sym << " row " << i;
      valid += !std::isnan(ref[i]);
    }
    EXPECT_GT(valid, 100u);
#ifdef AF_HAVE_TALIB
    std::vector<double> out(x.size());
    int beg = 0, n = 0;
    EXPECT_EQ(TA_RSI(0, static_cast<int>(x.size()) - 1, x.data(), 14, &beg, &n, out.data()), TA_SUCCESS);
    EXPECT_EQ(beg, 14);
    for (int i = 0; i < n; ++i)
      EXPECT_TRUE(close_enough(rsis[sym][beg + i], out[i], 1e-9)) << sym << " TA-Lib row " << beg + i;
#endif
  }

  std::set<std::pair<std::string, std::string>> seen;
  std::map<std::string, std::string> last_ts;
  for (const auto& r : preds.rows) {
    const std::string& ts = r[0];
    const std::string& sym = r[1];
    EXPECT_GE(ts, from_iso);
    EXPECT_TRUE(seen.insert({ts, sym}).second) << "duplicate " << ts << " " << sym;
    EXPECT_GT(ts, last_ts[sym]);
    last_ts[sym] = ts;
    const auto it = features.find({ts, sym});
    EXPECT_TRUE(it != features.end()) << "no dump row for " << ts << " " << sym;
    if (it == features.end()) continue;
    const double expected = std::tanh(2.0 + -5.0 * it->second.first + -0.04 * it->second.second);
    EXPECT_TRUE(close_enough(num(r[2]), expected, 1e-12)) << ts << " " << sym;
    EXPECT_EQ(r[3], "it_dag");
    EXPECT_EQ(r[4], "ohlcv");
    EXPECT_EQ(r[5], "model.prediction");
  }
  return c;
}

TEST(ReplayEndToEnd, SyntheticMirrorGivesCheckedPredictionsAndDump) {
  TempDir dir;
  auto gen = run_command(kBinary + " synth-data --out " + (dir / "mirror") +
                         " --symbols AAAUSDT,BBBUSDT --interval 1h --from 2025-01-01 --to 2025-03-01 --seed 7");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  write_file(dir / "p.yaml", pipeline_yaml("it_dag", "AAAUSDT, BBBUSDT", dir / "out/predictions.csv"));
  auto r = run_command(kBinary + " replay " + (dir / "p.yaml") + " --data " + (dir / "mirror") +
                       " --from 2025-02-01 --dump ohlcv=" + (dir / "dump.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("streamed_bars=1344"), std::string::npos) << r.out;
  const auto c = check_outputs(dir / "dump.csv", dir / "out/predictions.csv", "2025-02-01T00:00:00Z");
  EXPECT_EQ(c.predictions, 28u * 24 * 2);          // every streamed bar of February, both symbols
  EXPECT_EQ(c.dump_rows, (30u + 28u) * 24 * 2);    // warmup from 2025-01-02 plus February
}

TEST(ReplayEndToEnd, RerunAndResumeNeverDoublePredictions) {
  TempDir dir;
  ASSERT_EQ(run_command(kBinary + " synth-data --out " + (dir / "mirror") +
                        " --symbols AAAUSDT --interval 1h --from 2025-01-01 --to 2025-03-01 --seed 3")
                .exit_code,
            0);
  write_file(dir / "p.yaml", pipeline_yaml("it_dag", "AAAUSDT", dir / "predictions.csv"));
  const std::string base = kBinary + " replay " + (dir / "p.yaml") + " --data " + (dir / "mirror");
  // First up to mid-February, then the whole period twice: the CSV sink's
  // high-water mark must skip what the file already holds.
  ASSERT_EQ(run_command(base + " --from 2025-02-01 --to 2025-02-15").exit_code, 0);
  const size_t first = read_csv(dir / "predictions.csv").rows.size();
  EXPECT_EQ(first, 14u * 24);
  ASSERT_EQ(run_command(base + " --from 2025-02-01").exit_code, 0);
  ASSERT_EQ(run_command(base + " --from 2025-02-01").exit_code, 0);
  const Table t = read_csv(dir / "predictions.csv");
  EXPECT_EQ(t.rows.size(), 28u * 24);
  std::set<std::string> ts;
  for (const auto& r : t.rows) EXPECT_TRUE(ts.insert(r[0]).second) << "duplicate " << r[0];
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Issue 18, trap 1: a re-run of a changed pipeline over the same CSV must not
// keep the old predictions and report success.
TEST(ReplayEndToEnd, ChangedPlanRefusesStaleOutputUntilFresh) {
  TempDir dir;
  ASSERT_EQ(run_command(kBinary + " synth-data --out " + (dir / "mirror") +
                        " --symbols AAAUSDT --interval 1h --from 2025-01-01 --to 2025-03-01 --seed 3")
                .exit_code,
            0);
  const std::string csv = dir / "predictions.csv";
  const std::string yaml = pipeline_yaml("it_dag", "AAAUSDT", csv);
  write_file(dir / "p.yaml", yaml);
  const std::string base = kBinary + " replay " + (dir / "p.yaml") + " --data " + (dir / "mirror") +
                           " --from 2025-02-01";
  auto first = run_command(base);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(contains(first.out, "  sink sinks.csv_append[0]: written=672 skipped=0\n")) << first.out;
  EXPECT_FALSE(contains(first.err, "skipped")) << first.err;
  const std::string written = read_file(csv);

  // The same plan again: nothing new, and the summary says so.
  auto again = run_command(base);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "  sink sinks.csv_append[0]: written=0 skipped=672\n")) << again.out;
  EXPECT_TRUE(contains(again.err, "warning: sinks.csv_append[0]: 672 of 672 records skipped: the output already "
                                  "held their keys from an earlier run (`replay --fresh` writes them anew)"))
      << again.err;

  // A changed bias: refused, naming the file and the way out; the file is untouched.
  write_file(dir / "p.yaml", replace_all(yaml, "bias: 2.0", "bias: 1.0"));
  auto changed = run_command(base);
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_TRUE(contains(changed.err, "error: sinks.csv_append[0] (" + csv + "): holds 672 predictions of a different "
                                    "plan of pipeline 'it_dag' (fingerprint "))
      << changed.err;
  EXPECT_TRUE(contains(changed.err, "start the outputs anew with `replay --fresh` (or delete the file and its .plan), "
                                    "or give the sink a new path"))
      << changed.err;
  EXPECT_EQ(read_file(csv), written);

  // --fresh: the new plan's predictions replace the old ones.
  auto fresh = run_command(base + " --fresh");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_TRUE(contains(fresh.out, "  sink sinks.csv_append[0]: written=672 skipped=0\n")) << fresh.out;
  const Table old_rows = [&] {
    write_file(dir / "old.csv", written);
    return read_csv(dir / "old.csv");
  }();
  const Table new_rows = read_csv(csv);
  ASSERT_EQ(new_rows.rows.size(), 672u);
  ASSERT_EQ(old_rows.rows.size(), 672u);
  const size_t p = new_rows.col("prediction");
  size_t differing = 0;
  for (size_t i = 0; i < new_rows.rows.size(); ++i) differing += new_rows.rows[i][p] != old_rows.rows[i][p];
  EXPECT_EQ(differing, 672u);
}

// Issue 18, trap 3: holes in the data are reported (and can stop the run); a
// range or a lookback without data is an error, not an empty success.
class ReplayGaps : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                          " --symbols AAAUSDT --interval 1h --from 2025-01-01 --to 2025-06-01 --seed 3")
                  .exit_code,
              0);
    // March is missing, as when a month's archive file does not exist.
    const auto month = dir_ / "mirror/data/futures/um/monthly/klines/AAAUSDT/1h/AAAUSDT-1h-2025-03.zip";
    ASSERT_TRUE(std::filesystem::remove(month));
    std::filesystem::remove(month + ".CHECKSUM");
    write_file(dir_ / "p.yaml", pipeline_yaml("it_dag", "AAAUSDT", dir_ / "predictions.csv"));
  }
  testing::CommandResult replay(const std::string& extra) {
    return run_command(kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror") + " " + extra);
  }
  TempDir dir_;
};

TEST_F(ReplayGaps, GapIsReportedAndBridgedByDefault) {
  auto r = replay("--from 2025-02-01");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, " gaps=1 missing_bars=744 ")) << r.out;
  EXPECT_TRUE(contains(r.out, "  largest gap: AAAUSDT misses 744 bars 2025-03-01T00:00:00Z .. 2025-03-31T23:00:00Z "
                              "(31 days)\n"))
      << r.out;
  EXPECT_TRUE(contains(r.err, "warning: 1 gap in the data (744 missing bars), bridged: features carried their state "
                              "across (see docs/dsl.md, gaps)"))
      << r.err;
}

TEST_F(ReplayGaps, GapPolicyFailStopsAtTheGap) {
  auto r = replay("--from 2025-02-01 --gap-policy fail");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "error: gap in the data: AAAUSDT misses 744 bars 2025-03-01T00:00:00Z .. "
                              "2025-03-31T23:00:00Z (31 days) (--gap-policy fail)\n"))
      << r.err;
}

// Lines `ts symbol prediction` of --print with ts >= from (ISO-8601 strings sort by time).
std::vector<std::string> printed_from(const std::string& out, const std::string& from) {
  std::vector<std::string> lines;
  for (const auto& line : split_lines(out))
    if (line.size() > 20 && line[4] == '-' && line.substr(0, 20) >= from) lines.push_back(line);
  return lines;
}

// --gap-policy reset: after the missing March, AAAUSDT warms up again (no prediction
// until momentum's 21st row, 2025-04-01T20:00), then predicts exactly what a replay
// of the data after the hole predicts; bridge predicts something else there.
TEST_F(ReplayGaps, GapPolicyResetPredictsAsAReplayStartingAfterTheGap) {
  write_file(dir_ / "p.yaml", replace_all(read_file(dir_ / "p.yaml"), "lookback_days: 30", "lookback_days: 1"));
  auto reset = replay("--from 2025-02-01 --to 2025-04-10 --gap-policy reset --print --fresh");
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_TRUE(contains(reset.out, " gaps=1 missing_bars=744 ")) << reset.out;
  EXPECT_TRUE(contains(reset.err, "warning: 1 gap in the data (744 missing bars), reset: each symbol started afresh "
                                  "after its gap and warmed up again (see docs/dsl.md, gaps)"))
      << reset.err;
  const auto after_gap = printed_from(reset.out, "2025-03-01T00:00:00Z");
  ASSERT_FALSE(after_gap.empty());
  EXPECT_EQ(after_gap.front().substr(0, 29), "2025-04-01T20:00:00Z AAAUSDT ");
  EXPECT_EQ(after_gap.size(), 9u * 24 - 20);

  // The same data from April 1 on: warmup 2025-04-01, streamed from 2025-04-02.
  auto fresh = replay("--from 2025-04-02 --to 2025-04-10 --print --fresh");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  const auto fresh_lines = printed_from(fresh.out, "2025-04-02T00:00:00Z");
  ASSERT_EQ(fresh_lines.size(), 8u * 24);
  EXPECT_EQ(printed_from(reset.out, "2025-04-02T00:00:00Z"), fresh_lines);

  auto bridge = replay("--from 2025-02-01 --to 2025-04-10 --print --fresh");
  ASSERT_EQ(bridge.exit_code, 0) << bridge.err;
  EXPECT_NE(printed_from(bridge.out, "2025-04-02T00:00:00Z"), fresh_lines);
  // Before the gap the policies agree.
  EXPECT_EQ(split_lines(bridge.out).front(), split_lines(reset.out).front());
}

TEST_F(ReplayGaps, RangeWithoutDataIsAnError) {
  auto r = replay("--from 2026-01-01");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "error: no bars in the lookback 2025-12-02T00:00:00Z .. 2026-01-01T00:00:00Z under " +
                                  (dir_ / "mirror") +
                                  ": the warmup would be empty (pick a later --from, or add the data)\n"))
      << r.err;
  auto late = replay("--from 2025-06-15");
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_TRUE(contains(late.err, "error: no bars from 2025-06-15T00:00:00Z on under " + (dir_ / "mirror") +
                                     ": nothing to replay\n"))
      << late.err;
}

TEST_F(ReplayGaps, PrintShowsEachPrediction) {
  auto r = replay("--from 2025-05-31 --print");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = split_lines(r.out);
  ASSERT_GE(lines.size(), 24u);
  EXPECT_EQ(lines[0].rfind("2025-05-31T00:00:00Z AAAUSDT ", 0), 0u) << r.out;
  EXPECT_EQ(lines[23].rfind("2025-05-31T23:00:00Z AAAUSDT ", 0), 0u) << r.out;
}

TEST(ReplayEndToEnd, RealFuturesMirrorFilNear) {
  const auto mirror = testing::shared_data_dir() / "binance-vision";
  if (!std::filesystem::exists(mirror)) GTEST_SKIP() << "no ../shared/data: real-data test skipped";
  TempDir dir;
  write_file(dir / "p.yaml", pipeline_yaml("it_dag", "FILUSDT, NEARUSDT", dir / "predictions.csv"));
  auto r = run_command(kBinary + " replay " + (dir / "p.yaml") + " --data " + mirror.string() +
                       " --from 2023-09-01 --to 2023-11-01 --dump ohlcv=" + (dir / "dump.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto c = check_outputs(dir / "dump.csv", dir / "predictions.csv", "2023-09-01T00:00:00Z");
  EXPECT_EQ(c.predictions, 61u * 24 * 2);  // September and October, two symbols
  EXPECT_EQ(c.dump_rows, (30u + 61u) * 24 * 2);
}

}  // namespace
}  // namespace af
