// `ts_label: close` (issue 16 item 4), end to end through the alpha_forge
// binary: the same replay writes one sink open-labelled and others
// close-labelled, and each close row is its open row one prediction-frame
// interval (2h, not the 15m data interval) later, with the same prediction. A
// re-run writes nothing new (the dedup keys follow the label), and a file
// written with one label is refused under the other. The database sinks run
// against the real servers of scripts/test_servers.sh and skip without them.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include <nlohmann/json.hpp>
#include <unistd.h>

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
constexpr int64_t kTwoHoursMs = 2 * 3600 * 1000;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// `sinks` is the on_prediction list, already indented.
std::string pipeline(const std::string& sinks) {
  return R"(name: label_dag
signal_generation:
  warmup:
    lookback_days: 10
  on_prediction:
)" + sinks + R"(
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv_15m}
      params: {universe: [AAAUSDT, BBBUSDT], interval: 15m}
  - transform:
      using: transforms.resample
      inputs: {frame: ohlcv_15m}
      outputs: {frame: ohlcv_2h}
      params: {target_freq: 2H}
  - features:
      using: features.momentum
      inputs: {column: ohlcv_2h.close}
      outputs: {columns: [mom_5]}
      params: {window: 5}
  - model:
      using: models.linear
      inputs: {frame: ohlcv_2h}
      outputs: {columns: [prediction]}
      params: {features: [mom_5], weights: [3.0], activation: tanh, output_col: prediction}
)";
}

std::string csv_sink(const std::string& path, const std::string& label) {
  std::string s = "    - using: sinks.csv_append\n      params:\n        path: " + path + "\n";
  if (!label.empty()) s += "        ts_label: " + label + "\n";
  return s;
}

// (symbol, ts ms) -> prediction text, from a CSV the sink wrote.
std::map<std::pair<std::string, int64_t>, std::string> csv_rows(const std::string& path) {
  std::map<std::pair<std::string, int64_t>, std::string> out;
  const auto lines = split_lines(read_file(path));
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    const auto ts = parse_iso8601(f.at(0));
    EXPECT_TRUE(ts) << f.at(0);
    EXPECT_TRUE(out.emplace(std::make_pair(f.at(1), ts.value_or(0)), f.at(2)).second) << "duplicate " << lines[i];
  }
  return out;
}

// Every open-labelled row appears close-labelled exactly one 2h bar later.
void expect_shifted(const std::map<std::pair<std::string, int64_t>, std::string>& open,
                    const std::map<std::pair<std::string, int64_t>, double>& close) {
  ASSERT_FALSE(open.empty());
  EXPECT_EQ(open.size(), close.size());
  for (const auto& [key, pred] : open) {
    const auto it = close.find({key.first, key.second + kTwoHoursMs});
    ASSERT_TRUE(it != close.end()) << key.first << " " << format_iso8601(key.second) << " has no close row";
    EXPECT_DOUBLE_EQ(it->second, std::stod(pred)) << key.first << " " << format_iso8601(key.second);
  }
}

class TsLabel : public ::testing::Test {
 protected:
  void SetUp() override {
    auto gen = run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                           " --symbols AAAUSDT,BBBUSDT --interval 15m --from 2025-01-01 --to 2025-01-21 --seed 11");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
  }
  testing::CommandResult replay(const std::string& sinks, const std::string& extra = "") {
    write_file(dir_ / "p.yaml", pipeline(sinks));
    return run_command(kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror") +
                       " --from 2025-01-15 " + extra);
  }
  TempDir dir_;
};

TEST_F(TsLabel, CsvCloseRowsAreOpenRowsOneFrameIntervalLaterAndDedupFollows) {
  const std::string open = dir_ / "open.csv", close = dir_ / "close.csv";
  const std::string sinks = csv_sink(open, "") + csv_sink(close, "close");
  auto r = replay(sinks);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto open_rows = csv_rows(open);
  std::map<std::pair<std::string, int64_t>, double> close_rows;
  for (const auto& [k, v] : csv_rows(close)) close_rows[k] = std::stod(v);
  expect_shifted(open_rows, close_rows);
  // The first close label is the first open label + 2h: 2025-01-15T02:00.
  EXPECT_EQ(close_rows.begin()->first.second, *parse_iso8601("2025-01-15T02:00:00Z"));

  // Again: the close file's high-water mark is in close time and still skips all.
  const std::string n = std::to_string(open_rows.size());
  auto again = replay(sinks);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("  sink sinks.csv_append[1]: written=0 skipped=" + n + "\n"), std::string::npos)
      << again.out;
  EXPECT_EQ(csv_rows(close).size(), open_rows.size());

  // The close file under `open`: refused (its .plan fingerprint includes the label).
  const std::string before = read_file(close);
  auto relabelled = replay(csv_sink(close, "open"));
  EXPECT_EQ(relabelled.exit_code, 1);
  EXPECT_NE(relabelled.err.find("error: sinks.csv_append[0] (" + close + "): holds " + n +
                                " predictions of a different plan of pipeline 'label_dag' (fingerprint "),
            std::string::npos)
      << relabelled.err;
  EXPECT_EQ(read_file(close), before);
}

TEST_F(TsLabel, ResumedCloseFileHasNoHoleAndNoDouble) {
  const std::string close = dir_ / "close.csv";
  write_file(dir_ / "p.yaml", pipeline(csv_sink(close, "close")));
  const std::string base = kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror") + " --from 2025-01-15";
  ASSERT_EQ(run_command(base + " --to 2025-01-18").exit_code, 0);
  ASSERT_EQ(run_command(base).exit_code, 0);
  const auto rows = csv_rows(close);
  // 2025-01-15 .. 2025-01-21 (exclusive): 6 days of 12 bars, two symbols.
  EXPECT_EQ(rows.size(), 6u * 12 * 2);
}

TEST_F(TsLabel, ClickHouseKeysCloseTime) {
  const std::string url = env("AF_CLICKHOUSE_URL");
  if (url.empty())
    GTEST_SKIP() << "AF_CLICKHOUSE_URL is not set: scripts/test_servers.sh start DIR, then eval its env";
  std::random_device rd;
  const std::string table = "ts_label_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1'000'000);
  const std::string open = dir_ / "open.csv";
  const std::string sinks = csv_sink(open, "") + "    - using: sinks.clickhouse\n      params: {url: \"" + url +
                            "\", table_name: " + table + ", create_table: true, ts_label: close}\n";
  ASSERT_EQ(replay(sinks).exit_code, 0);
  // Twice: re-sent rows replace themselves under the close-time key.
  auto again = replay(sinks);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  write_file(dir_ / "q.sql", "SELECT symbol, ts, prediction FROM " + table + " FINAL ORDER BY symbol, ts FORMAT CSV");
  auto q = run_command("curl -sS --max-time 10 --fail-with-body --data-binary @" + (dir_ / "q.sql") + " '" + url + "/'");
  ASSERT_EQ(q.exit_code, 0) << q.out << q.err;
  std::map<std::pair<std::string, int64_t>, double> close_rows;
  for (const auto& line : split_lines(q.out)) {
    const auto f = split(line, ',');
    ASSERT_EQ(f.size(), 3u) << line;
    std::string sym = f[0];
    if (sym.size() >= 2 && sym.front() == '"') sym = sym.substr(1, sym.size() - 2);
    close_rows[{sym, std::stoll(f[1])}] = std::stod(f[2]);
  }
  expect_shifted(csv_rows(open), close_rows);
  write_file(dir_ / "drop.sql", "DROP TABLE IF EXISTS " + table);
  run_command("curl -sS --max-time 10 --data-binary @" + (dir_ / "drop.sql") + " '" + url + "/'");
}

TEST_F(TsLabel, DynamoDbItemKeyIsCloseTime) {
  const std::string url = env("AF_DYNAMODB_URL");
  if (url.empty()) GTEST_SKIP() << "AF_DYNAMODB_URL is not set: scripts/test_servers.sh start DIR, then eval its env";
  std::random_device rd;
  const std::string table = "ts_label_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1'000'000);
  const std::string open = dir_ / "open.csv";
  const std::string sinks = csv_sink(open, "") + "    - using: sinks.dynamodb\n      params: {endpoint_url: \"" + url +
                            "\", region: us-east-1, table_name: " + table + ", create_table: true, ts_label: close}\n";
  const std::string creds = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing ";
  write_file(dir_ / "p.yaml", pipeline(sinks));
  const std::string cmd = creds + kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror") +
                          " --from 2025-01-15";
  auto first = run_command(cmd);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(run_command(cmd).exit_code, 0);
  // Paginated Scan through curl's own SigV4 signing, an independent client.
  std::map<std::pair<std::string, int64_t>, double> close_rows;
  std::string request = "{\"TableName\":\"" + table + "\"}";
  size_t items = 0;
  for (int page = 0; page < 100; ++page) {
    write_file(dir_ / "req.json", request);
    auto r = run_command("curl -sS --max-time 10 --aws-sigv4 'aws:amz:us-east-1:dynamodb' --user testing:testing "
                         "-H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.Scan' "
                         "--data-binary @" + (dir_ / "req.json") + " " + url + "/");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto res = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(res.is_object() && res.contains("Items")) << r.out;
    for (const auto& it : res["Items"]) {
      ++items;
      close_rows[{it["symbol"]["S"].get<std::string>(), std::stoll(it["ts"]["N"].get<std::string>())}] =
          std::stod(it["prediction"]["N"].get<std::string>());
    }
    if (!res.contains("LastEvaluatedKey")) break;
    request = nlohmann::json{{"TableName", table}, {"ExclusiveStartKey", res["LastEvaluatedKey"]}}.dump();
  }
  EXPECT_EQ(items, close_rows.size());  // one item per key, never two
  expect_shifted(csv_rows(open), close_rows);
  write_file(dir_ / "del.json", "{\"TableName\":\"" + table + "\"}");
  run_command("curl -sS --max-time 5 --aws-sigv4 'aws:amz:us-east-1:dynamodb' --user testing:testing "
              "-H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.DeleteTable' "
              "--data-binary @" + (dir_ / "del.json") + " " + url + "/");
}

}  // namespace
}  // namespace af
