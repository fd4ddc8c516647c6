// sinks.python driven in process: through the registry's factory and the
// delivery layer's SignalEmitter (one worker per sink), as the engine drives it.
// Each test writes a small Python class to a temporary folder.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "python/class_spec.hpp"
#include "python/interpreter.hpp"
#include "python/register_python_sink.hpp"
#include "delivery/signal_emitter.hpp"
#include "support/process.hpp"

namespace af {
namespace {

using testing::read_file;
using testing::split_lines;
using testing::TempDir;
using testing::write_file;

const std::string kDag = "py_dag";
const std::string kFrame = "ohlcv";
const std::string kColumn = "model.prediction";
const std::string kBtc = "BTCUSDT";
const std::string kEth = "ETHUSDT";
constexpr int64_t kTs0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

// The interpreter is finalised once, after every test: the run exercises the
// shutdown path the binary takes.
class PythonEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { python::finalize_interpreter(); }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PythonEnvironment);

PredictionRecord record(int i, const std::string& symbol = kBtc) {
  PredictionRecord r;
  r.ts = kTs0 + int64_t{i} * 60'000;
  r.symbol = &symbol;
  r.prediction = 0.5 + i;
  r.dag_name = &kDag;
  r.frame = &kFrame;
  r.column = &kColumn;
  r.emitted_at = kTs0 + 123;
  r.origin = BarOrigin::kStream;
  return r;
}

class PythonSinkTest : public ::testing::Test {
 protected:
  PythonSinkTest() { python::register_python_sink(registry_); }

  Result<std::unique_ptr<Sink>> make(const std::string& cls, const std::string& params_json = "{}",
                                     int64_t batch_size = 100, const std::string& name = "sinks.python[0]") {
    registry::Params p;
    p.set("class", cls);
    p.set("params", params_json);
    p.set("batch_size", batch_size);
    params_.push_back(std::make_unique<registry::Params>(p));
    SinkContext ctx{*params_.back(), name, kDag};
    ctx.pipeline_file = dir_ / "pipeline.yaml";
    ctx.symbols = {kBtc, kEth, "SOLUSDT"};
    ctx.where = dir_ / "pipeline.yaml:12:9";
    return registry_.find("sinks.python")->factory(ctx);
  }

  static SinkWorkerOptions fast_retry() {
    SinkWorkerOptions o;
    o.retry.initial_backoff_ms = 5;
    o.retry.max_backoff_ms = 20;
    o.retry.max_attempts = 50;
    return o;
  }

  TempDir dir_;
  SinkRegistry registry_;
  std::vector<std::unique_ptr<registry::Params>> params_;
};

// Appends one line per call to `path`: what emit, emit_batch, flush and close received.
const char* kRecorder = R"PY(
import datetime

class Recorder:
    def __init__(self, path, tag="r"):
        self.path = path
        self.tag = tag
        self.log("init")

    def log(self, text):
        with open(self.path, "a") as f:
            f.write(text + "\n")

    def emit(self, symbol, ts, prediction, metadata):
        assert ts.tzinfo is datetime.timezone.utc, ts.tzinfo
        self.log("emit %s %s %r %s" % (symbol, ts.isoformat(), prediction,
                 ",".join("%s=%s" % (k, v.isoformat() if hasattr(v, "isoformat") else v)
                          for k, v in sorted(metadata.items()))))

    def flush(self):
        self.log("flush")

    def close(self):
        self.log("close")

class Batcher(Recorder):
    def emit_batch(self, records):
        self.log("batch %d %s" % (len(records), " ".join("%s@%s" % (r[0], r[1].strftime("%H:%M")) for r in records)))
)PY";

TEST_F(PythonSinkTest, EmitGetsTheOriginalsArgumentsAndCloseIsCalledOnce) {
  write_file(dir_ / "recorder.py", kRecorder);
  const std::string out = dir_ / "calls.txt";
  auto sink = make("recorder.py:Recorder", R"({"path": ")" + out + R"("})");
  ASSERT_TRUE(sink) << sink.error().message;
  SignalEmitter emitter;
  emitter.add("sinks.python[0]", std::move(sink).value());
  ASSERT_TRUE(emitter.open_all());
  emitter.emit(record(0));
  emitter.emit(record(1, kEth));
  ASSERT_TRUE(emitter.close());
  ASSERT_TRUE(emitter.close());  // idempotent: close() reaches Python once
  const auto lines = split_lines(read_file(out));
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines.front(), "init");
  // The worker flushes whenever its queue runs empty: between the emits or not.
  std::vector<std::string> emits;
  for (const auto& l : lines)
    if (l.rfind("emit ", 0) == 0) emits.push_back(l);
  ASSERT_EQ(emits.size(), 2u);
  EXPECT_EQ(emits[0],
            "emit BTCUSDT 2024-01-01T00:00:00+00:00 0.5 column=model.prediction,dag_name=py_dag,"
            "emitted_at=2024-01-01T00:00:00.123000+00:00,frame=ohlcv,origin=stream");
  EXPECT_EQ(emits[1].substr(0, 45), "emit ETHUSDT 2024-01-01T00:01:00+00:00 1.5 co");
  EXPECT_EQ(lines.back(), "close");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "close"), 1);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "flush"), lines.end());
}

TEST_F(PythonSinkTest, EmitBatchGetsTheRecordsInBatchesOfBatchSize) {
  write_file(dir_ / "recorder.py", kRecorder);
  const std::string out = dir_ / "calls.txt";
  auto sink = make("recorder.py:Batcher", R"({"path": ")" + out + R"("})", 3);
  ASSERT_TRUE(sink) << sink.error().message;
  ASSERT_TRUE((*sink)->open());
  std::vector<PredictionRecord> batch;
  for (int i = 0; i < 7; ++i) batch.push_back(record(i));
  ASSERT_TRUE((*sink)->write(batch));
  ASSERT_TRUE((*sink)->close());
  ASSERT_TRUE((*sink)->close());
  const auto lines = split_lines(read_file(out));
  const std::vector<std::string> want{"init",
                                      "batch 3 BTCUSDT@00:00 BTCUSDT@00:01 BTCUSDT@00:02",
                                      "batch 3 BTCUSDT@00:03 BTCUSDT@00:04 BTCUSDT@00:05",
                                      "batch 1 BTCUSDT@00:06",
                                      "close"};
  EXPECT_EQ(lines, want);
}

TEST_F(PythonSinkTest, ModuleFormIsFoundInThePipelinesFolderAndParamsAreKeywords) {
  write_file(dir_ / "pysink_module_form.py", kRecorder);
  const std::string out = dir_ / "calls.txt";
  auto sink = make("pysink_module_form:Recorder", R"({"path": ")" + out + R"(", "tag": "x"})");
  ASSERT_TRUE(sink) << sink.error().message;
  ASSERT_TRUE((*sink)->open());
  ASSERT_TRUE((*sink)->close());
  EXPECT_EQ(split_lines(read_file(out)), (std::vector<std::string>{"init", "close"}));
}

// Fails its first `failures` calls with ConnectionError, then records.
const char* kFlaky = R"PY(
import os

class Flaky:
    def __init__(self, path, failures):
        self.path = path
        self.failures = failures

    def emit(self, symbol, ts, prediction, metadata):
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("receiver down")
        with open(self.path, "a") as f:
            f.write("%s %s\n" % (symbol, ts.isoformat()))

    def close(self):
        pass
)PY";

TEST_F(PythonSinkTest, AnExceptionIsRetriedWithItsTypeMessageAndPlace) {
  write_file(dir_ / "flaky.py", kFlaky);
  const std::string out = dir_ / "got.txt";
  auto sink = make("flaky.py:Flaky", R"({"path": ")" + out + R"(", "failures": 2})");
  ASSERT_TRUE(sink) << sink.error().message;
  SignalEmitter emitter(fast_retry());
  emitter.add("sinks.python[0]", std::move(sink).value());
  ASSERT_TRUE(emitter.open_all());
  for (int i = 0; i < 5; ++i) emitter.emit(record(i));
  ASSERT_TRUE(emitter.close());
  EXPECT_EQ(split_lines(read_file(out)).size(), 5u);
  const auto stats = emitter.stats().at(0);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_FALSE(stats.dead);
  EXPECT_EQ(stats.last_error, "sinks.python[0] (class 'flaky.py:Flaky'): emit raised ConnectionError: receiver down (at " +
                                  (dir_ / "flaky.py") + ":12)");
}

const char* kPermanent = R"PY(
import alpha_forge

class Refused(Exception):
    permanent = True

class Stops:
    calls = 0
    def __init__(self, path, how):
        self.path = path
        self.how = how

    def emit(self, symbol, ts, prediction, metadata):
        if self.how == "base":
            raise alpha_forge.PermanentError("bad credentials")
        raise Refused("table dropped")

    def close(self):
        with open(self.path, "a") as f:
            f.write("close\n")
)PY";

TEST_F(PythonSinkTest, APermanentExceptionStopsTheSinkAndCloseIsStillCalledOnce) {
  write_file(dir_ / "stops.py", kPermanent);
  for (const std::string how : {"base", "attribute"}) {
    SCOPED_TRACE(how);
    const std::string out = dir_ / ("close_" + how + ".txt");
    auto sink = make("stops.py:Stops", R"({"path": ")" + out + R"(", "how": ")" + how + R"("})");
    ASSERT_TRUE(sink) << sink.error().message;
    SignalEmitter emitter(fast_retry());
    emitter.add("sinks.python[0]", std::move(sink).value());
    ASSERT_TRUE(emitter.open_all());
    emitter.emit(record(0));
    const Status st = emitter.close();
    ASSERT_FALSE(st);
    const auto stats = emitter.stats().at(0);
    EXPECT_TRUE(stats.dead);
    EXPECT_EQ(stats.retried, 0u) << "a permanent error is not retried";
    const std::string want = how == "base" ? "emit raised alpha_forge.PermanentError: bad credentials (at "
                                           : "emit raised stops.Refused: table dropped (at ";
    EXPECT_NE(st.error().message.find(want), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("[permanent: the sink stops]"), std::string::npos) << st.error().message;
    EXPECT_EQ(read_file(out), "close\n");
  }
}

const char* kCounter = R"PY(
import os
import time

class Counter:
    def __init__(self, path, gate=None, fail=False):
        self.path = path
        self.gate = gate
        self.fail = fail

    def emit(self, symbol, ts, prediction, metadata):
        if self.fail:
            raise RuntimeError("always")
        deadline = time.monotonic() + 30
        while self.gate and not os.path.exists(self.gate) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(self.path, "a") as f:
            f.write("%s %s\n" % (symbol, ts.isoformat()))

    def close(self):
        pass
)PY";

TEST_F(PythonSinkTest, ARaisingSinkDoesNotAffectTheOthers) {
  write_file(dir_ / "counter.py", kCounter);
  const std::string good = dir_ / "good.txt";
  auto raising = make("counter.py:Counter", R"({"path": "/dev/null", "fail": true})", 100, "sinks.python[0]");
  auto fine = make("counter.py:Counter", R"({"path": ")" + good + R"("})", 100, "sinks.python[1]");
  ASSERT_TRUE(raising && fine);
  SinkWorkerOptions o = fast_retry();
  o.retry.max_attempts = 3;
  SignalEmitter emitter(o);
  emitter.add("sinks.python[0]", std::move(raising).value());
  emitter.add("sinks.python[1]", std::move(fine).value());
  ASSERT_TRUE(emitter.open_all());
  for (int i = 0; i < 50; ++i) emitter.emit(record(i));
  const Status st = emitter.close();
  EXPECT_FALSE(st) << "the raising sink's lost records are reported";
  const auto stats = emitter.stats();
  EXPECT_GT(stats.at(0).failed, 0u);
  EXPECT_EQ(stats.at(0).last_error.find("sinks.python[0] (class 'counter.py:Counter'): emit raised RuntimeError: always"),
            0u)
      << stats.at(0).last_error;
  EXPECT_EQ(stats.at(1).sent, 50u);
  EXPECT_EQ(stats.at(1).failed, 0u);
  EXPECT_EQ(split_lines(read_file(good)).size(), 50u);
}

TEST_F(PythonSinkTest, ASleepingSinkDelaysNeitherTheEventLoopNorAnotherPythonSink) {
  write_file(dir_ / "counter.py", kCounter);
  const std::string slow_out = dir_ / "slow.txt";
  const std::string fast_out = dir_ / "fast.txt";
  auto slow = make("counter.py:Counter", R"({"path": ")" + slow_out + R"(", "gate": ")" + (dir_ / "gate") + R"("})", 100, "sinks.python[0]");
  auto fast = make("counter.py:Counter", R"({"path": ")" + fast_out + R"("})", 100, "sinks.python[1]");
  ASSERT_TRUE(slow && fast);
  SignalEmitter emitter;
  emitter.add("sinks.python[0]", std::move(slow).value());
  emitter.add("sinks.python[1]", std::move(fast).value());
  ASSERT_TRUE(emitter.open_all());
  constexpr int kRecords = 200;
  std::chrono::nanoseconds worst{0};
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    emitter.emit(record(i));
    worst = std::max(worst, std::chrono::steady_clock::now() - t0);
  }
  // The fast sink takes everything while the slow one blocks in its first call
  // (a Python sleep, which gives the GIL up as any blocking I/O does).
  bool fast_done = false;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    if (split_lines(read_file(fast_out)).size() == kRecords) {
      fast_done = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto fast_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const size_t slow_done = split_lines(read_file(slow_out)).size();
  const auto worst_us = std::chrono::duration_cast<std::chrono::microseconds>(worst).count();
  ::testing::Test::RecordProperty("emit_worst_us", static_cast<int>(worst_us));
  ::testing::Test::RecordProperty("fast_sink_all_ms", static_cast<int>(fast_ms.count()));
  std::cout << "emit() worst " << worst_us << " us over " << kRecords << " records; the fast sink had all of them after "
            << fast_ms.count() << " ms, the sleeping one " << slow_done << "\n";
  EXPECT_TRUE(fast_done);
  EXPECT_LT(worst_us, 50'000) << "emit() waited on a sink";
  EXPECT_LT(fast_ms.count(), 5'000);
  EXPECT_EQ(slow_done, 0u) << "the slow sink is still blocked in its first call";
  write_file(dir_ / "gate", "");
  ASSERT_TRUE(emitter.close());
  EXPECT_EQ(split_lines(read_file(slow_out)).size(), static_cast<size_t>(kRecords));
}

TEST_F(PythonSinkTest, ImportAndConstructionErrorsNameTheSinkThePipelinePlaceAndThePythonError) {
  write_file(dir_ / "broken.py", "class Sink:\n    def emit(self, symbol, ts, prediction, metadata)\n        pass\n");
  write_file(dir_ / "noemit.py", "class Sink:\n    def close(self):\n        pass\n");
  write_file(dir_ / "ok.py", "class Sink:\n    def __init__(self, path):\n        pass\n    def emit(self, *a):\n        pass\n");
  const std::string where = "sinks.python[0] (" + (dir_ / "pipeline.yaml") + ":12:9): class '";
  struct Case {
    std::string cls;
    std::string params;
    std::string want;
  };
  const std::vector<Case> cases{
      {"no_such_module_xyz:Sink", "{}",
       "no_such_module_xyz:Sink': loading raised ModuleNotFoundError: No module named 'no_such_module_xyz'"},
      {"ok.py:Missing", "{}", "ok.py:Missing': loading raised AttributeError: " + (dir_ / "ok.py") +
                                  " has no attribute 'Missing'"},
      {"broken.py:Sink", "{}", "broken.py:Sink': loading raised SyntaxError: expected ':' ("},
      {"noemit.py:Sink", "{}", "noemit.py:Sink': loading raised TypeError: Sink has no method emit(symbol, ts, "
                               "prediction, metadata)"},
      {"ok.py:Sink", R"({"pth": 1})", "ok.py:Sink': the constructor raised TypeError: Sink.__init__() got an "
                                      "unexpected keyword argument 'pth'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cls);
    auto sink = make(c.cls, c.params);
    ASSERT_TRUE(sink) << sink.error().message;
    SignalEmitter emitter;
    emitter.add("sinks.python[0]", std::move(sink).value());
    const Status st = emitter.open_all();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message.find(where + c.want), 0u) << st.error().message;
    EXPECT_EQ(st.error().message.find('\n'), std::string::npos) << "one line";
  }
}

// last_ts answers what the destination holds: a datetime for BTCUSDT, ms for
// ETHUSDT, None for SOLUSDT; `mode` makes it answer badly instead.
const char* kHolder = R"PY(
import datetime

class Holder:
    def __init__(self, mode="good"):
        self.mode = mode
        self.asked = []

    def emit(self, symbol, ts, prediction, metadata):
        pass

    def last_ts(self, dag_name, symbol):
        self.asked.append((dag_name, symbol))
        if self.mode == "naive":
            return datetime.datetime(2024, 1, 1)
        if self.mode == "text":
            return "2024-01-01"
        if self.mode == "flag":
            return True
        if self.mode == "raise":
            raise KeyError(symbol)
        if self.mode == "huge":
            return 1 << 70
        if symbol == "BTCUSDT":
            return datetime.datetime(2024, 1, 1, 1, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
        if symbol == "ETHUSDT":
            return 1704067260000
        return None

class NoHolder:
    def emit(self, symbol, ts, prediction, metadata):
        pass
)PY";

TEST_F(PythonSinkTest, LastTsIsAskedOncePerSymbolInOpenAndAnswersAfterwards) {
  write_file(dir_ / "holder.py", kHolder);
  auto sink = make("holder.py:Holder");
  ASSERT_TRUE(sink) << sink.error().message;
  ASSERT_TRUE((*sink)->open());
  // An aware datetime in any zone is the same instant: 01:00+01:00 is midnight UTC.
  EXPECT_EQ((*sink)->last_ts(kDag, kBtc), std::optional<int64_t>(kTs0));
  EXPECT_EQ((*sink)->last_ts(kDag, kEth), std::optional<int64_t>(kTs0 + 60'000));
  EXPECT_EQ((*sink)->last_ts(kDag, "SOLUSDT"), std::nullopt);       // None: holds nothing
  EXPECT_EQ((*sink)->last_ts("another_dag", kBtc), std::nullopt);   // asked about this pipeline only
  EXPECT_EQ((*sink)->last_ts(kDag, "XRPUSDT"), std::nullopt);       // not in the universe: never asked
  ASSERT_TRUE((*sink)->close());
  // After close the answers stay (the restart logic may read them late).
  EXPECT_EQ((*sink)->last_ts(kDag, kBtc), std::optional<int64_t>(kTs0));

  auto none = make("holder.py:NoHolder");
  ASSERT_TRUE(none) << none.error().message;
  ASSERT_TRUE((*none)->open());
  EXPECT_EQ((*none)->last_ts(kDag, kBtc), std::nullopt);
  ASSERT_TRUE((*none)->close());
}

TEST_F(PythonSinkTest, ALastTsThatIsNotATimeFailsTheStartInOneLine) {
  write_file(dir_ / "holder.py", kHolder);
  const std::string where = "sinks.python[0] (" + (dir_ / "pipeline.yaml") + ":12:9): class 'holder.py:Holder': ";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"naive", "last_ts raised ValueError: last_ts('py_dag', 'BTCUSDT') returned the naive datetime "
                "2024-01-01T00:00:00: return an aware one (emit receives UTC) or milliseconds since the epoch"},
      {"text", "last_ts raised TypeError: last_ts('py_dag', 'BTCUSDT') returned str '2024-01-01': expected None, a "
               "timezone-aware datetime or milliseconds since the epoch (int)"},
      {"flag", "last_ts raised TypeError: last_ts('py_dag', 'BTCUSDT') returned bool True: expected None"},
      {"huge", "last_ts raised ValueError: last_ts('py_dag', 'BTCUSDT') returned 1180591620717411303424, outside "
               "any plausible time in milliseconds"},
      {"raise", "last_ts raised KeyError: 'BTCUSDT' (at " + (dir_ / "holder.py") + ":"},
  };
  for (const auto& [mode, want] : cases) {
    SCOPED_TRACE(mode);
    auto sink = make("holder.py:Holder", R"({"mode": ")" + mode + R"("})");
    ASSERT_TRUE(sink) << sink.error().message;
    SignalEmitter emitter;
    emitter.add("sinks.python[0]", std::move(sink).value());
    const Status st = emitter.open_all();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message.find(where + want), 0u) << st.error().message;
    EXPECT_EQ(st.error().message.find('\n'), std::string::npos) << "one line";
  }
}

TEST(PythonClassSpec, GrammarAndFileAreCheckedWithoutRunningPython) {
  TempDir dir;
  write_file(dir / "here.py", "raise SystemExit('never run')\n");
  const std::string pipeline = dir / "p.yaml";
  EXPECT_EQ(python::class_spec_problem("here.py:Sink", pipeline), "");
  EXPECT_EQ(python::class_spec_problem("pkg.mod:Outer.Inner", pipeline), "");
  EXPECT_EQ(python::class_spec_problem("gone.py:Sink", pipeline), "class 'gone.py:Sink': no file " + (dir / "gone.py"));
  EXPECT_EQ(python::class_spec_problem("Sink", pipeline), "class 'Sink' expects module:Class or path/to/file.py:Class");
  EXPECT_EQ(python::class_spec_problem("my-mod:Sink", pipeline),
            "class 'my-mod:Sink' expects module:Class or path/to/file.py:Class ('my-mod' is neither a module name nor "
            "a .py file)");
  EXPECT_EQ(python::class_spec_problem("m:1x", pipeline),
            "class 'm:1x' expects module:Class or path/to/file.py:Class ('1x' is not a Python name)");
}

}  // namespace
}  // namespace af
