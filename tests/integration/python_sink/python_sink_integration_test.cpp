// sinks.python end to end, through the binary: the example SQLite sink
// (examples/plugins/sqlite_sink.py, found on PYTHONPATH) behind a test subclass
// that fails as many calls as a file says. Every prediction must reach the table
// exactly once, equal to the CSV sink beside it: through an outage (records
// spooled, then replayed), a kill -9 during it, and a kill -9 of the live
// service against the simulated exchange. close() runs once per clean exit.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "delivery/signal_emitter.hpp"
#include "support/signal_scenario.hpp"

namespace af {
namespace {

using testing::ChildProcess;
using testing::read_file;
using testing::run_command;
using testing::SimMarket;
using testing::split;
using testing::split_lines;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;
using namespace std::chrono_literals;

const std::string kBinary = testing::kAlphaForge;

std::string source_dir() {
  const char* s = std::getenv("AF_SOURCE_DIR");  // ctest sets it; run by hand, the tree built from
  return s ? s : AF_SOURCE_TREE;
}

// The example sink, made to fail while `down` exists, and to note each close().
const char* kOutageSink = R"PY(
import os

from sqlite_sink import SqliteSink


class OutageSqlite(SqliteSink):
    def __init__(self, down, closes, **kwargs):
        self._down = down
        self._closes = closes
        super().__init__(**kwargs)

    # `down` holds how many more calls fail (absent: none).
    def _check(self):
        if not os.path.exists(self._down):
            return
        with open(self._down) as f:
            left = int(f.read() or 0)
        if left > 0:
            with open(self._down, "w") as f:
                f.write(str(left - 1))
            raise ConnectionError("database unreachable")

    def emit(self, *args):
        self._check()
        super().emit(*args)

    def emit_batch(self, records):
        self._check()
        super().emit_batch(records)

    def flush(self):
        self._check()
        super().flush()

    def close(self):
        with open(self._closes, "a") as f:
            f.write("close\n")
        super().close()
)PY";

// The sinks of the pipelines below: the CSV reference first, then the Python one.
std::string sinks_yaml(const TempDir& dir) {
  return "  on_prediction:\n"
         "    - using: sinks.csv_append\n"
         "      params: {path: " + (dir / "predictions.csv") + "}\n"
         "    - using: sinks.python\n"
         "      params:\n"
         "        class: outage_sink.py:OutageSqlite\n"
         "        batch_size: 64\n"
         "        params:\n"
         "          down: " + (dir / "down") + "\n"
         "          closes: " + (dir / "closes.txt") + "\n"
         "          path: " + (dir / "predictions.db") + "\n";
}

std::string model_yaml(const std::string& frame) {
  return "  - features:\n"
         "      using: features.rsi\n"
         "      inputs: {column: " + frame + ".close}\n"
         "      outputs: {columns: [rsi_14]}\n"
         "      params: {window: 14}\n"
         "  - model:\n"
         "      using: models.linear\n"
         "      inputs: {frame: " + frame + "}\n"
         "      outputs: {columns: [model.prediction]}\n"
         "      params: {features: [rsi_14], weights: [-0.04], bias: 2.0, activation: tanh}\n";
}

using Key = std::pair<std::string, std::string>;  // (ts as ISO-8601, symbol)

// (ts, symbol) -> prediction as printed by the CSV sink.
std::map<Key, double> csv_rows(const std::string& path, size_t* duplicates) {
  std::map<Key, double> rows;
  const auto lines = split_lines(read_file(path));
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    if (f.size() < 3) continue;
    if (!rows.emplace(Key{f[0], f[1]}, std::stod(f[2])).second) ++*duplicates;
  }
  return rows;
}

// The table's rows, ts normalised to the CSV's form ("2024-01-02T00:00:00Z").
// `while_starting`: the sink may not have created the table yet (none then).
std::map<Key, double> sqlite_rows(const std::string& db, bool while_starting = false) {
  if (while_starting && !std::filesystem::exists(db)) return {};
  auto r = run_command("/usr/bin/python3 -c \"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                       "[print(t.replace('+00:00','Z'), s, repr(p)) for t,s,p in "
                       "c.execute('SELECT ts, symbol, prediction FROM predictions')]\" " + db);
  if (while_starting && r.exit_code != 0 && r.err.find("no such table") != std::string::npos) return {};
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<Key, double> rows;
  for (const auto& line : split_lines(r.out)) {
    const auto f = split(line, ' ');
    if (f.size() == 3) rows.emplace(Key{f[0], f[1]}, std::stod(f[2]));
  }
  return rows;
}

// Every CSV prediction is in the table once, with the same value (the CSV
// prints 10 significant digits).
void expect_same(const std::map<Key, double>& csv, const std::map<Key, double>& table) {
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(table.size(), csv.size());
  size_t diffs = 0;
  for (const auto& [key, value] : csv) {
    auto it = table.find(key);
    if (it == table.end()) {
      if (++diffs < 6) ADD_FAILURE() << "the table lacks " << key.first << " " << key.second;
    } else if (std::abs(it->second - value) > 1e-9 * std::max(1.0, std::abs(value))) {
      if (++diffs < 6) ADD_FAILURE() << key.first << " " << key.second << ": table " << it->second << " csv " << value;
    }
  }
  EXPECT_EQ(diffs, 0u);
}

std::vector<std::string> python_env() { return {"PYTHONPATH=" + source_dir() + "/examples/plugins"}; }

class PythonSinkIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_ / "outage_sink.py", kOutageSink);
  }
  // Minute bars of 2024-01-01 .. 01-03 for two symbols.
  void make_mirror() {
    auto gen = run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                           " --symbols BTCUSDT,ETHUSDT --interval 1m --from 2024-01-01 --to 2024-01-03 --seed 5");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
  }
  std::string replay_yaml() const {
    return "name: py_replay\n"
           "signal_generation:\n"
           "  warmup: {lookback_days: 1}\n"
           "  scheduling: {interval: 1m, buffer_minutes: 1}\n" +
           sinks_yaml(dir_) +
           "pipeline:\n"
           "  - data:\n"
           "      using: data.binance_futures\n"
           "      outputs: {frame: ohlcv}\n"
           "      params: {universe: [BTCUSDT, ETHUSDT], interval: 1m}\n" +
           model_yaml("ohlcv");
  }
  size_t closes() const { return split_lines(read_file(dir_ / "closes.txt")).size(); }

  TempDir dir_;
};

TEST_F(PythonSinkIntegration, ReplayThroughAnOutageAndAKillNineDeliversEveryPredictionOnce) {
  make_mirror();
  ASSERT_FALSE(HasFatalFailure());
  write_file(dir_ / "p.yaml", replay_yaml());
  const std::string state = dir_ / "state";
  const std::string spool = SignalEmitter::spool_path(state + "/spool", "sinks.python[1]");
  std::vector<std::string> argv{kBinary, "replay", dir_ / "p.yaml", "--data", dir_ / "mirror", "--state-dir", state};

  // 1. The database is down for good: records spool; kill -9 while the spool
  // holds some.
  write_file(dir_ / "down", "1000000");
  {
    ChildProcess run(argv, dir_ / "run1.out", dir_ / "run1.err", python_env());
    ASSERT_TRUE(run.started());
    ASSERT_TRUE(testing::wait_for_nonempty_file(spool, 120s)) << run.err();
    run.signal(SIGKILL);
    ASSERT_EQ(run.wait(10s), 128 + SIGKILL) << "the run ended before it could be killed: " << run.err();
    EXPECT_NE(run.err().find("emit_batch raised ConnectionError: database unreachable (at " + (dir_ / "outage_sink.py") +
                             ":22)"),
              std::string::npos)
        << run.err();
  }
  EXPECT_EQ(closes(), 0u) << "kill -9 runs no close()";

  // 2. Still down for the first 3 calls of the rerun, then up: while run 1's
  // spool cannot be replayed, this run's records join it (oldest first), and
  // when the database answers again everything is delivered within the run.
  write_file(dir_ / "down", "3");
  {
    ChildProcess run(argv, dir_ / "run2.out", dir_ / "run2.err", python_env());
    ASSERT_TRUE(run.started());
    ASSERT_EQ(run.wait(300s), 0) << run.err();
    // "still failing (attempt 1), N records spooled: ...": N is what run 1 spooled before the kill.
    EXPECT_NE(run.err().find("still failing (attempt 1), "), std::string::npos) << run.err();
    EXPECT_NE(run.err().find(" records spooled: sinks.python[1] (class 'outage_sink.py:OutageSqlite'): emit_batch "
                             "raised ConnectionError: database unreachable"),
              std::string::npos)
        << run.err();
    EXPECT_EQ(read_file(dir_ / "down"), "0") << "every failing call was made";
  }
  EXPECT_EQ(closes(), 1u) << "close() once at the end of the run";
  EXPECT_EQ(std::filesystem::file_size(spool), 0u) << "a delivered spool is truncated";

  size_t duplicates = 0;
  const auto csv = csv_rows(dir_ / "predictions.csv", &duplicates);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_GT(csv.size(), 2000u);  // a day of minute bars, two symbols
  ::testing::Test::RecordProperty("predictions", static_cast<int>(csv.size()));
  expect_same(csv, sqlite_rows(dir_ / "predictions.db"));
}

TEST_F(PythonSinkIntegration, LiveServiceKilledAndRestartedDeliversEveryPredictionOnce) {
  SimMarket market;
  ASSERT_EQ(market.start(dir_.path().string()), "");
  write_file(dir_ / "live.yaml", "name: py_live\n"
                                 "signal_generation:\n"
                                 "  mode: stream\n"
                                 "  warmup: {lookback_days: 2}\n"
                                 "  scheduling: {interval: 1m, buffer_minutes: 1}\n" +
                                     sinks_yaml(dir_) +
                                     "pipeline:\n"
                                     "  - data:\n"
                                     "      using: data.binance_futures\n"
                                     "      outputs: {frame: ohlcv}\n"
                                     "      params: {universe: [BTCUSDT, ETHUSDT], interval: 1m}\n" +
                                     model_yaml("ohlcv"));
  auto start = [&](const std::string& tag) {
    return testing::start_signal(dir_ / "live.yaml", market, dir_ / tag,
                                 {"--state-dir", dir_ / "state", "--snapshot-every", "1", "--anchor-timeout", "20"},
                                 python_env());
  };
  auto lines = [&] { return split_lines(read_file(dir_ / "predictions.csv")).size(); };

  auto first = start("first");
  ASSERT_TRUE(wait_until([&] { return lines() >= 40 || !first->running(); }, 120s)) << first->err();
  ASSERT_TRUE(first->running()) << first->err();
  std::this_thread::sleep_for(1500ms);  // a snapshot after some live bars
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(120s), 128 + SIGKILL);
  const size_t at_kill = lines();
  EXPECT_EQ(closes(), 0u);
  std::this_thread::sleep_for(3s);  // the exchange moves on: bars to catch up

  auto second = start("second");
  ASSERT_TRUE(wait_until([&] { return lines() >= at_kill + 60 || !second->running(); }, 120s)) << second->err();
  ASSERT_TRUE(second->running()) << second->err();
  second->signal(SIGTERM);
  ASSERT_EQ(second->wait(120s), 0) << second->err();
  EXPECT_NE(second->out().find("Signal generation completed"), std::string::npos) << second->out();
  EXPECT_NE(second->err().find("snapshot restored"), std::string::npos) << second->err();
  market.stop();
  EXPECT_EQ(closes(), 1u) << "close() once, at the clean shutdown";

  size_t duplicates = 0;
  const auto csv = csv_rows(dir_ / "predictions.csv", &duplicates);
  EXPECT_EQ(duplicates, 0u);
  ::testing::Test::RecordProperty("predictions", static_cast<int>(csv.size()));
  expect_same(csv, sqlite_rows(dir_ / "predictions.db"));
}

// Without a snapshot, a restart asks the sinks what they hold: the example's
// last_ts answers from the table, so the minutes the service was down are
// predicted, and the table has no hole. Only the Python sink answers here.
TEST_F(PythonSinkIntegration, LiveRestartWithoutASnapshotFillsTheDowntimeFromTheTablesNewestRow) {
  SimMarket market;
  ASSERT_EQ(market.start(dir_.path().string()), "");
  write_file(dir_ / "live.yaml", "name: py_live\n"
                                 "signal_generation:\n"
                                 "  mode: stream\n"
                                 "  warmup: {lookback_days: 2}\n"
                                 "  scheduling: {interval: 1m, buffer_minutes: 1}\n"
                                 "  on_prediction:\n"
                                 "    - using: sinks.python\n"
                                 "      params:\n"
                                 "        class: sqlite_sink:SqliteSink\n"
                                 "        params: {path: " + (dir_ / "predictions.db") + "}\n"
                                 "pipeline:\n"
                                 "  - data:\n"
                                 "      using: data.binance_futures\n"
                                 "      outputs: {frame: ohlcv}\n"
                                 "      params: {universe: [BTCUSDT, ETHUSDT], interval: 1m}\n" +
                                     model_yaml("ohlcv"));
  auto start = [&](const std::string& tag) {
    return testing::start_signal(dir_ / "live.yaml", market, dir_ / tag, {"--anchor-timeout", "20"}, python_env());
  };
  auto rows = [&] { return sqlite_rows(dir_ / "predictions.db", true); };

  auto first = start("first");
  ASSERT_TRUE(wait_until([&] { return rows().size() >= 40 || !first->running(); }, 120s)) << first->err();
  first->signal(SIGTERM);
  ASSERT_EQ(first->wait(120s), 0) << first->err();
  const auto before = rows();
  std::this_thread::sleep_for(3s);  // 30 exchange minutes nobody predicts

  auto second = start("second");
  ASSERT_TRUE(wait_until([&] { return rows().size() >= before.size() + 80 || !second->running(); }, 120s))
      << second->err();
  second->signal(SIGTERM);
  ASSERT_EQ(second->wait(120s), 0) << second->err();
  market.stop();
  EXPECT_NE(second->err().find("no usable snapshot: the sinks hold predictions up to"), std::string::npos)
      << second->err();

  // Per symbol, the table's minutes are contiguous from the first run's first
  // prediction to the second run's last: the downtime is predicted, once.
  const auto after = rows();
  std::map<std::string, std::vector<int64_t>> minutes;
  for (const auto& [key, value] : after) {
    const auto ms = parse_iso8601(key.first);
    ASSERT_TRUE(ms) << key.first;
    minutes[key.second].push_back(*ms);
  }
  ASSERT_EQ(minutes.size(), 2u);
  for (auto& [symbol, ts] : minutes) {
    SCOPED_TRACE(symbol);
    std::sort(ts.begin(), ts.end());
    ASSERT_GE(ts.size(), 60u);
    size_t holes = 0;
    for (size_t i = 1; i < ts.size(); ++i) {
      if (ts[i] - ts[i - 1] != kMinuteMs && ++holes < 4)
        ADD_FAILURE() << "hole after " << format_iso8601(ts[i - 1]) << " until " << format_iso8601(ts[i]);
    }
    EXPECT_EQ(holes, 0u);
  }
  // The first run's rows are kept as they were (INSERT OR IGNORE: never rewritten).
  for (const auto& [key, value] : before) EXPECT_EQ(after.at(key), value) << key.first << " " << key.second;
}

TEST_F(PythonSinkIntegration, ClassErrorsAreOneLineNamingThePipelinePlace) {
  make_mirror();
  ASSERT_FALSE(HasFatalFailure());
  const std::string yaml = replay_yaml();
  // validate: a missing file, located at the `class` param; nothing imported.
  const std::string missing = std::string(yaml).replace(yaml.find("outage_sink.py"), 14, "missing_sink.py");
  write_file(dir_ / "missing.yaml", missing);
  auto v = run_command(kBinary + " validate " + (dir_ / "missing.yaml"));
  EXPECT_NE(v.exit_code, 0);
  EXPECT_NE(v.err.find((dir_ / "missing.yaml") + ":10:16: error: signal_generation.on_prediction[1].params.class: "
                       "class 'missing_sink.py:OutageSqlite': no file " + (dir_ / "missing_sink.py")),
            std::string::npos)
      << v.err;
  // validate runs no user code: a module that would fail on import passes.
  write_file(dir_ / "p.yaml", yaml);
  write_file(dir_ / "outage_sink.py", "raise SystemExit('imported by validate')\n");
  v = run_command(kBinary + " validate " + (dir_ / "p.yaml"));
  EXPECT_EQ(v.exit_code, 0) << v.err;
  // replay: the import fails at start, one line naming the sink and its place.
  auto r = run_command(kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("sinks.python[1] (" + (dir_ / "p.yaml") +
                       ":8:14): class 'outage_sink.py:OutageSqlite': loading raised SystemExit: imported by validate (at " +
                       (dir_ / "outage_sink.py") + ":1)"),
            std::string::npos)
      << r.err;
  // A module name not on PYTHONPATH.
  write_file(dir_ / "outage_sink.py", kOutageSink);
  r = run_command(kBinary + " replay " + (dir_ / "p.yaml") + " --data " + (dir_ / "mirror"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("loading raised ModuleNotFoundError: No module named 'sqlite_sink'"), std::string::npos)
      << r.err;
  // `plugins` lists it like a built-in, with its params.
  auto p = run_command(kBinary + " plugins");
  EXPECT_NE(p.out.find("sinks.python"), std::string::npos);
  EXPECT_NE(p.out.find("batch_size"), std::string::npos);
}

// The webhook example against a receiver on loopback (Python's http.server in a
// child process): every prediction POSTed once, with the header from `params`;
// a 401 is permanent: the sink stops at once, named, and its records are counted lost.
const char* kReceiver = R"PY(
import http.server, json, sys

token, port_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
seen = {}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != "Bearer " + token:
            self.send_response(401)
            self.end_headers()
            return
        for r in body["records"]:
            seen[r["key"]] = seen.get(r["key"], 0) + 1
        with open(out, "w") as f:
            f.write("%d %d\n" % (sum(seen.values()), len(seen)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
)PY";

TEST_F(PythonSinkIntegration, WebhookExamplePostsEveryPredictionOnceAndA401StopsIt) {
  auto gen = run_command(kBinary + " synth-data --out " + (dir_ / "mirror") +
                         " --symbols BTCUSDT --interval 1h --from 2025-01-01 --to 2025-02-01");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  write_file(dir_ / "receiver.py", kReceiver);
  ChildProcess receiver({"/usr/bin/python3", dir_ / "receiver.py", "t0k", dir_ / "port", dir_ / "received.txt"},
                        dir_ / "receiver.out", dir_ / "receiver.err");
  ASSERT_TRUE(receiver.started());
  ASSERT_TRUE(wait_until([&] { return !read_file(dir_ / "port").empty(); }, 30s)) << receiver.err();
  const std::string url = "http://127.0.0.1:" + read_file(dir_ / "port") + "/hook";
  auto pipeline = [&](const std::string& token) {
    return "name: py_webhook\n"
           "signal_generation:\n"
           "  warmup: {lookback_days: 1}\n"
           "  scheduling: {interval: 1h, buffer_minutes: 1}\n"
           "  on_prediction:\n"
           "    - using: sinks.python\n"
           "      params:\n"
           "        class: webhook_sink:WebhookSink\n"
           "        params: {url: \"" + url + "\", headers: {Authorization: \"Bearer " + token + "\"}}\n"
           "pipeline:\n"
           "  - data:\n"
           "      using: data.binance_futures\n"
           "      outputs: {frame: ohlcv}\n"
           "      params: {universe: [BTCUSDT], interval: 1h}\n" +
           model_yaml("ohlcv");
  };
  write_file(dir_ / "hook.yaml", pipeline("t0k"));
  const std::string env = "PYTHONPATH=" + source_dir() + "/examples/plugins ";
  auto r = run_command(env + kBinary + " replay " + (dir_ / "hook.yaml") + " --data " + (dir_ / "mirror"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("predictions=720 "), std::string::npos) << r.out;
  EXPECT_EQ(read_file(dir_ / "received.txt"), "720 720\n") << "records POSTed, distinct keys";

  write_file(dir_ / "bad.yaml", pipeline("wrong"));
  r = run_command(env + kBinary + " replay " + (dir_ / "bad.yaml") + " --data " + (dir_ / "mirror"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("sinks.python[0] (class 'webhook_sink:WebhookSink'): emit_batch raised "
                       "alpha_forge.PermanentError: " + url + " answered 401 Unauthorized (at " + source_dir() +
                       "/examples/plugins/webhook_sink.py:"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("[permanent: the sink stops]"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("retrying"), std::string::npos) << "a permanent error is not retried: " << r.err;
  EXPECT_EQ(read_file(dir_ / "received.txt"), "720 720\n");
  receiver.signal(SIGTERM);
  (void)receiver.wait(10s);
}

}  // namespace
}  // namespace af
