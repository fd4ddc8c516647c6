// Sink plugins through the C ABI: the example plugin end to end, every
// validation error's text, and a FATAL plugin that must not disturb other sinks.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "delivery/signal_emitter.hpp"
#include "sinks/plugin_sink.hpp"
#include "unit/delivery/test_sinks.hpp"
#include "support/prediction_records.hpp"

namespace af::sinks {
namespace {

namespace fs = std::filesystem;

const std::string kBtc = "BTCUSDT";
const std::string kOdd = "q\"uote";
const std::string kDag = "dag1";
const std::string kFrame = "ohlcv";
const std::string kColumn = "prediction";

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kRest};

PredictionRecord rec(int64_t ts, const std::string& symbol = kBtc, double p = 0.5) {
  return kLabels.record(ts, symbol, p, 1'700'000'000'000);
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("af_plugin_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PluginTest, ExamplePluginLoadsRegistersAndWrites) {
  auto plugin = load_sink_plugin(AF_TEST_JSONL_PLUGIN);
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  EXPECT_EQ((*plugin)->name, "jsonl");
  SinkRegistry reg;
  ASSERT_TRUE(register_sink_plugin(reg, *plugin).ok());
  const auto* entry = reg.find("sinks.jsonl");
  ASSERT_NE(entry, nullptr);
  const auto& d = entry->descriptor;
  EXPECT_EQ(d.kind, registry::PluginKind::kSink);
  ASSERT_EQ(d.params.size(), 1u);
  EXPECT_EQ(d.params[0].name, "path");
  EXPECT_EQ(d.params[0].type, registry::ParamType::kString);
  EXPECT_TRUE(d.params[0].required);
  EXPECT_EQ(d.warmup_rows(registry::Params{}), 1);

  registry::Params p;
  const auto out = dir_ / "p.jsonl";
  p.set("path", out.string());
  auto sink = entry->factory(SinkContext{p, "sinks.jsonl[0]", kDag});
  ASSERT_TRUE(sink.ok());
  SignalEmitter e;
  e.add("sinks.jsonl[0]", std::move(sink.value()));
  ASSERT_TRUE(e.open_all().ok());
  e.emit(rec(1000, kBtc, 0.25));
  e.emit(rec(2000, kOdd, -1));
  ASSERT_TRUE(e.close().ok());
  EXPECT_EQ(read_file(out),
            "{\"ts\":1000,\"symbol\":\"BTCUSDT\",\"prediction\":0.25,\"dag_name\":\"dag1\",\"frame\":\"ohlcv\","
            "\"column\":\"prediction\",\"emitted_at\":1700000000000,\"origin\":\"rest\"}\n"
            "{\"ts\":2000,\"symbol\":\"q\\\"uote\",\"prediction\":-1,\"dag_name\":\"dag1\",\"frame\":\"ohlcv\","
            "\"column\":\"prediction\",\"emitted_at\":1700000000000,\"origin\":\"rest\"}\n");
  EXPECT_EQ(register_sink_plugin(reg, *plugin).error().message,
            std::string(AF_TEST_JSONL_PLUGIN) + ": sink 'sinks.jsonl' is already registered");
}

TEST_F(PluginTest, CreateFailureIsReportedAtOpenWithSinkAndPlugin) {
  SinkRegistry reg;
  ASSERT_TRUE(load_and_register_sink_plugin(reg, AF_TEST_JSONL_PLUGIN).ok());
  registry::Params p;
  const auto out = dir_ / "missing" / "p.jsonl";
  p.set("path", out.string());
  auto sink = reg.find("sinks.jsonl")->factory(SinkContext{p, "sinks.jsonl[0]", kDag});
  ASSERT_TRUE(sink.ok());
  SignalEmitter e;
  e.add("sinks.jsonl[0]", std::move(sink.value()));
  Status st = e.open_all();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sinks.jsonl[0] (" + std::string(AF_TEST_JSONL_PLUGIN) +
                                    "): create failed: cannot open '" + out.string() +
                                    "' for appending: No such file or directory");
}

// Version 2's last_ts, through the example plugin: the newest ts per (dag_name,
// symbol) in the file it appends to, a torn last line not counted.
TEST_F(PluginTest, ExamplePluginSaysWhatItsFileHolds) {
  SinkRegistry reg;
  ASSERT_TRUE(load_and_register_sink_plugin(reg, AF_TEST_JSONL_PLUGIN).ok());
  const auto out = dir_ / "p.jsonl";
  auto line = [](int64_t ts, const std::string& symbol, const std::string& dag) {
    return "{\"ts\":" + std::to_string(ts) + ",\"symbol\":\"" + symbol + "\",\"prediction\":0.5,\"dag_name\":\"" +
           dag + "\",\"frame\":\"ohlcv\",\"column\":\"p\",\"emitted_at\":1,\"origin\":\"rest\"}\n";
  };
  {
    std::ofstream f(out, std::ios::binary);
    f << line(1000, kBtc, kDag) << line(3000, kBtc, kDag) << line(2000, kBtc, kDag) << line(5000, "ETHUSDT", kDag)
      << line(9000, kBtc, "other_dag") << line(4000, "q\\\"uote", kDag)
      << "{\"ts\":99000,\"symbol\":\"BTCUSDT\",\"predic";  // torn by a crash
  }
  registry::Params p;
  p.set("path", out.string());
  SinkContext ctx{p, "sinks.jsonl[0]", kDag};
  ctx.symbols = {kBtc, "ETHUSDT", "XRPUSDT", kOdd};
  auto sink = reg.find("sinks.jsonl")->factory(ctx);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->open().ok());
  EXPECT_EQ((*sink)->last_ts(kDag, kBtc), 3000);
  EXPECT_EQ((*sink)->last_ts(kDag, "ETHUSDT"), 5000);
  EXPECT_EQ((*sink)->last_ts(kDag, kOdd), 4000);
  EXPECT_EQ((*sink)->last_ts(kDag, "XRPUSDT"), std::nullopt);
  EXPECT_EQ((*sink)->last_ts("other_dag", kBtc), std::nullopt);  // not this pipeline's
  ASSERT_TRUE((*sink)->close().ok());
}

TEST_F(PluginTest, ExamplePluginRefusesAFileItDidNotWrite) {
  SinkRegistry reg;
  ASSERT_TRUE(load_and_register_sink_plugin(reg, AF_TEST_JSONL_PLUGIN).ok());
  const auto out = dir_ / "p.jsonl";
  {
    std::ofstream f(out, std::ios::binary);
    f << "{\"ts\":1000,\"symbol\":\"BTCUSDT\",\"prediction\":1,\"dag_name\":\"dag1\"}\n"
      << "ts,symbol,prediction\n";
  }
  registry::Params p;
  p.set("path", out.string());
  SinkContext ctx{p, "sinks.jsonl[0]", kDag};
  ctx.symbols = {kBtc};
  auto sink = reg.find("sinks.jsonl")->factory(ctx);
  ASSERT_TRUE(sink.ok());
  Status st = (*sink)->open();
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().transient);
  EXPECT_EQ(st.error().message, "sinks.jsonl[0] (" + std::string(AF_TEST_JSONL_PLUGIN) + "): last_ts('dag1', 'BTCUSDT'): " +
                                    out.string() + ":2: not a record this plugin wrote");
}

TEST_F(PluginTest, LastTsAnswersErrorsAndARetriedOpen) {
  SinkRegistry reg;
  ASSERT_TRUE(load_and_register_sink_plugin(reg, AF_TEST_HELD_PLUGIN).ok());
  registry::Params p;
  auto make = [&](std::vector<std::string> symbols) {
    SinkContext ctx{p, "sinks.held_test[0]", kDag};
    ctx.symbols = std::move(symbols);
    auto sink = reg.find("sinks.held_test")->factory(ctx);
    EXPECT_TRUE(sink.ok());
    return std::move(sink.value());
  };
  const std::string where = "sinks.held_test[0] (" + std::string(AF_TEST_HELD_PLUGIN) + "): ";
  {
    auto sink = make({"BTCUSDT", "ETHUSDT", "BNB"});
    ASSERT_TRUE(sink->open().ok());
    EXPECT_EQ(sink->last_ts(kDag, "BTCUSDT"), 7000);
    EXPECT_EQ(sink->last_ts(kDag, "BNB"), 3000);
    EXPECT_EQ(sink->last_ts(kDag, "ETHUSDT"), std::nullopt);
    EXPECT_EQ(sink->last_ts(kDag, "BCHUSDT"), std::nullopt);  // not asked: not in the universe
    ASSERT_TRUE(sink->close().ok());
  }
  {
    auto sink = make({"BTCUSDT", "FAILUSDT"});
    for (int attempt = 0; attempt < 2; ++attempt) {
      // The failed instance is destroyed (the plugin allows one alive): opening the
      // same sink again creates a new one and fails the same way.
      Status st = sink->open();
      ASSERT_FALSE(st.ok());
      EXPECT_TRUE(st.error().transient);
      EXPECT_EQ(st.error().message, where + "last_ts('dag1', 'FAILUSDT'): destination unreachable");
      EXPECT_EQ(sink->last_ts(kDag, "BTCUSDT"), std::nullopt);  // nothing kept from a failed open
    }
  }
  {
    auto sink = make({"BADUSDT"});
    Status st = sink->open();
    ASSERT_FALSE(st.ok());
    EXPECT_FALSE(st.error().transient);
    EXPECT_EQ(st.error().message, where + "last_ts('dag1', 'BADUSDT') set found to 2, not 0 or 1");
  }
}

TEST_F(PluginTest, AVersionOneTableLoadsAndItsMemoryPastDestroyIsNotRead) {
  auto plugin = load_sink_plugin(AF_TEST_V1_PLUGIN);
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  EXPECT_EQ((*plugin)->last_ts, nullptr);
  SinkRegistry reg;
  ASSERT_TRUE(register_sink_plugin(reg, *plugin).ok());
  registry::Params p;
  SinkContext ctx{p, "sinks.v1_test[0]", kDag};
  ctx.symbols = {kBtc};
  auto sink = reg.find("sinks.v1_test")->factory(ctx);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->open().ok());
  EXPECT_EQ((*sink)->last_ts(kDag, kBtc), std::nullopt);
  const std::vector<PredictionRecord> batch{rec(1000)};
  EXPECT_TRUE((*sink)->write(batch).ok());
  EXPECT_TRUE((*sink)->close().ok());
}

TEST(PluginLoad, WrongAbiVersion) {
  auto p = load_sink_plugin(AF_TEST_BAD_ABI_PLUGIN);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            std::string(AF_TEST_BAD_ABI_PLUGIN) + ": sink plugin ABI version 99, this engine supports versions 1 to 2");
}

TEST(PluginLoad, TableTooSmall) {
  auto p = load_sink_plugin(AF_TEST_SMALL_TABLE_PLUGIN);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, std::string(AF_TEST_SMALL_TABLE_PLUGIN) +
                                   ": sink plugin table is 16 bytes, ABI version 2 needs at least " +
                                   std::to_string(sizeof(af_sink_plugin)));
}

TEST(PluginLoad, MissingEntrySymbol) {
  auto p = load_sink_plugin(AF_TEST_NO_ENTRY_PLUGIN);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            std::string(AF_TEST_NO_ENTRY_PLUGIN) + ": not a sink plugin: no symbol 'af_sink_plugin_entry'");
}

TEST(PluginLoad, MissingFile) {
  auto p = load_sink_plugin("/nonexistent/x.so");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message.rfind("/nonexistent/x.so: cannot load sink plugin: ", 0), 0u) << p.error().message;
}

TEST(PluginParams, DeclaredDefaultsAndJson) {
  auto plugin = load_sink_plugin(AF_TEST_FATAL_PLUGIN);
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  ASSERT_EQ((*plugin)->params.size(), 1u);
  EXPECT_EQ((*plugin)->params[0].type, registry::ParamType::kInt);
  EXPECT_EQ(registry::format_param_value((*plugin)->params[0].default_value), "3");
  registry::Params p;
  p.set("path", std::string("a \"b\""));
  p.set("n", int64_t{7});
  p.set("x", 0.5);
  p.set("on", true);
  p.set("keys", std::vector<std::string>{"ts", "symbol"});
  EXPECT_EQ(params_to_json(p), R"({"keys":["ts","symbol"],"n":7,"on":true,"path":"a \"b\"","x":0.5})");
}

TEST(PluginFatal, DoesNotTakeDownTheEmitterOrOtherSinks) {
  SinkRegistry reg;
  ASSERT_TRUE(load_and_register_sink_plugin(reg, AF_TEST_FATAL_PLUGIN).ok());
  registry::Params p;
  p.set("accept", int64_t{3});
  auto sink = reg.find("sinks.fatal_test")->factory(SinkContext{p, "sinks.fatal_test[0]", kDag});
  ASSERT_TRUE(sink.ok());
  test::SinkScript other;
  SinkWorkerOptions o;
  o.max_batch = 1;
  SignalEmitter e(o);
  e.add("sinks.fatal_test[0]", std::move(sink.value()));
  e.add("sinks.other[1]", std::make_unique<test::ScriptedSink>(other));
  ASSERT_TRUE(e.open_all().ok());
  for (int64_t ts = 1; ts <= 10; ++ts) e.emit(rec(ts));
  ASSERT_TRUE(other.wait_for_count(10, 2000));
  Status st = e.close();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sinks.fatal_test[0] (" + std::string(AF_TEST_FATAL_PLUGIN) +
                                    "): emit: disk quota exceeded after 3 records; sinks.fatal_test[0]: 7 records lost");
  const auto stats = e.stats();
  EXPECT_TRUE(stats[0].dead);
  EXPECT_EQ(stats[0].sent, 3u);
  EXPECT_EQ(stats[1].sent, 10u);
  EXPECT_FALSE(stats[1].dead);
  EXPECT_EQ(other.got.size(), 10u);
}

}  // namespace
}  // namespace af::sinks
