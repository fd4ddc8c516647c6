// sinks.csv_append: exact file contents, restart without duplicates, torn last
// line, error texts, descriptor checks, and the sink behind a real emitter.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/time.hpp"
#include "registry/param.hpp"
#include "delivery/signal_emitter.hpp"
#include "sinks/csv_append_sink.hpp"
#include "sinks/register_builtins.hpp"
#include "sinks/text_format.hpp"
#include "support/prediction_records.hpp"

namespace af::sinks {
namespace {

namespace fs = std::filesystem;

const std::string kBtc = "BTCUSDT";
const std::string kEth = "ETHUSDT";
const std::string kDag = "minimal";
const std::string kFrame = "ohlcv";
const std::string kColumn = "model.prediction";
const std::string kPlanA = "0123456789abcdef";
const std::string kPlanB = "fedcba9876543210";
constexpr int64_t kT0 = 1'766'754'000'000;  // 2025-12-26T13:00:00Z
constexpr int64_t kHour = 3'600'000;

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kArchive};

PredictionRecord rec(int64_t ts, const std::string& symbol, double p, int64_t emitted_at = kT0 + 7'250) {
  return kLabels.record(ts, symbol, p, emitted_at);
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

class CsvAppendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("af_csv_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<CsvAppendSink> make(const fs::path& path,
                                      std::vector<RecordField> key = {RecordField::kTs, RecordField::kSymbol}) {
    return std::make_unique<CsvAppendSink>("sinks.csv_append[0]", path.string(), std::move(key),
                                           CsvAppendSink::PlanIdentity{kDag, kPlanA});
  }
  // Writes ts = kT0 + i hours for i in [from, to] for one symbol, through one open/close cycle.
  void write_range(const fs::path& path, int from, int to, const std::string& symbol = kBtc) {
    auto s = make(path);
    ASSERT_TRUE(s->open().ok());
    std::vector<PredictionRecord> batch;
    for (int i = from; i <= to; ++i) batch.push_back(rec(kT0 + i * kHour, symbol, i * 0.25));
    ASSERT_TRUE(s->write(batch).ok());
    ASSERT_TRUE(s->flush().ok());
    ASSERT_TRUE(s->close().ok());
  }
  fs::path dir_;
};

TEST_F(CsvAppendTest, ExactContents) {
  const auto path = dir_ / "outputs/predictions/p.csv";
  auto s = make(path);
  ASSERT_TRUE(s->open().ok());
  const std::string odd = "A,\"B\"";
  std::vector<PredictionRecord> batch{rec(kT0, kBtc, 0.1 + 0.2), rec(kT0, kEth, -1.5e-7, kT0 + 250),
                                      rec(kT0 + kHour, kBtc, 3.0), rec(kT0, odd, 0)};
  ASSERT_TRUE(s->write(batch).ok());
  ASSERT_TRUE(s->flush().ok());
  EXPECT_EQ(read_file(path),
            "ts,symbol,prediction,dag_name,frame,column,emitted_at\n"
            "2025-12-26T13:00:00Z,BTCUSDT,0.30000000000000004,minimal,ohlcv,model.prediction,2025-12-26T13:00:07.250Z\n"
            "2025-12-26T13:00:00Z,ETHUSDT,-1.5e-07,minimal,ohlcv,model.prediction,2025-12-26T13:00:00.250Z\n"
            "2025-12-26T14:00:00Z,BTCUSDT,3,minimal,ohlcv,model.prediction,2025-12-26T13:00:07.250Z\n"
            "2025-12-26T13:00:00Z,\"A,\"\"B\"\"\",0,minimal,ohlcv,model.prediction,2025-12-26T13:00:07.250Z\n");
  ASSERT_TRUE(s->close().ok());
}

TEST_F(CsvAppendTest, NothingReachesTheFileBeforeFlush) {
  const auto path = dir_ / "p.csv";
  auto s = make(path);
  ASSERT_TRUE(s->open().ok());
  const auto header_only = read_file(path);
  EXPECT_EQ(header_only, std::string(CsvAppendSink::kHeader) + "\n");
  std::vector<PredictionRecord> batch{rec(kT0, kBtc, 1)};
  ASSERT_TRUE(s->write(batch).ok());
  EXPECT_EQ(read_file(path), header_only);  // buffered
  ASSERT_TRUE(s->flush().ok());
  EXPECT_EQ(count_lines(read_file(path)), 2u);
}

TEST_F(CsvAppendTest, RestartWritesNoDuplicates) {
  const auto path = dir_ / "p.csv";
  write_range(path, 1, 10);
  write_range(path, 1, 15);
  const auto text = read_file(path);
  EXPECT_EQ(count_lines(text), 1u + 15u);  // header + 15 records
  // The 11th..15th came from the second run, in order, after the first ten.
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  for (int i = 1; i <= 15; ++i) {
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line.substr(0, line.find(',')), format_iso8601(kT0 + i * kHour)) << i;
  }
}

TEST_F(CsvAppendTest, DedupIsPerKeyAndCounted) {
  const auto path = dir_ / "p.csv";
  write_range(path, 1, 3, kBtc);
  auto s = make(path);
  ASSERT_TRUE(s->open().ok());
  EXPECT_EQ(s->keys(), 1u);
  std::vector<PredictionRecord> batch{rec(kT0 + 2 * kHour, kBtc, 9), rec(kT0 + 2 * kHour, kEth, 9),
                                      rec(kT0 + 3 * kHour, kBtc, 9), rec(kT0 + 4 * kHour, kBtc, 9),
                                      rec(kT0 + 4 * kHour, kBtc, 8)};
  ASSERT_TRUE(s->write(batch).ok());
  EXPECT_EQ(s->written(), 2u);       // ETH@2, BTC@4
  EXPECT_EQ(s->deduplicated(), 3u);  // BTC@2, BTC@3 (on disk), BTC@4 again
  ASSERT_TRUE(s->close().ok());
  EXPECT_EQ(count_lines(read_file(path)), 1u + 5u);
}

TEST_F(CsvAppendTest, DedupKeyWithColumnKeepsColumnsApart) {
  const auto path = dir_ / "p.csv";
  const std::string other_col = "model.other";
  auto s = make(path, {RecordField::kTs, RecordField::kSymbol, RecordField::kColumn});
  ASSERT_TRUE(s->open().ok());
  auto r2 = rec(kT0, kBtc, 2);
  r2.column = &other_col;
  std::vector<PredictionRecord> batch{rec(kT0, kBtc, 1), r2, rec(kT0, kBtc, 3)};
  ASSERT_TRUE(s->write(batch).ok());
  EXPECT_EQ(s->written(), 2u);
  EXPECT_EQ(s->deduplicated(), 1u);
  ASSERT_TRUE(s->close().ok());
}

// The restart's catch-up point without a snapshot (issue 12 item 3): what the
// file held at open, per dag and symbol; nothing for what it does not hold.
TEST_F(CsvAppendTest, LastTsIsTheNewestRecordPerDagAndSymbolInTheFileAtOpen) {
  const fs::path p = dir_ / "out.csv";
  write_range(p, 0, 5, kBtc);
  write_range(p, 0, 2, kEth);
  auto s = make(p);
  EXPECT_EQ(s->last_ts(kDag, kBtc), std::nullopt) << "before open it cannot tell";
  ASSERT_TRUE(s->open().ok());
  EXPECT_EQ(s->last_ts(kDag, kBtc), kT0 + 5 * kHour);
  EXPECT_EQ(s->last_ts(kDag, kEth), kT0 + 2 * kHour);
  EXPECT_EQ(s->last_ts(kDag, "SOLUSDT"), std::nullopt);
  EXPECT_EQ(s->last_ts("another_dag", kBtc), std::nullopt);
  // What this process writes later is not what the file held at open.
  std::vector<PredictionRecord> batch{rec(kT0 + 9 * kHour, kBtc, 1.0)};
  ASSERT_TRUE(s->write(batch).ok());
  ASSERT_TRUE(s->flush().ok());
  EXPECT_EQ(s->last_ts(kDag, kBtc), kT0 + 5 * kHour);
  ASSERT_TRUE(s->close().ok());
}

TEST_F(CsvAppendTest, TornLastLineIsRemoved) {
  const auto path = dir_ / "p.csv";
  write_range(path, 1, 3);
  const auto intact = read_file(path);
  {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << "2025-12-26T17:00:00Z,BTCUSDT,0.7";  // a crash in the middle of a line
  }
  auto s = make(path);
  ASSERT_TRUE(s->open().ok());
  EXPECT_EQ(read_file(path), intact);
  std::vector<PredictionRecord> batch{rec(kT0 + 4 * kHour, kBtc, 0.75)};
  ASSERT_TRUE(s->write(batch).ok());
  ASSERT_TRUE(s->close().ok());
  EXPECT_EQ(read_file(path), intact +
                                 "2025-12-26T17:00:00Z,BTCUSDT,0.75,minimal,ohlcv,model.prediction,"
                                 "2025-12-26T13:00:07.250Z\n");
}

TEST_F(CsvAppendTest, TornHeaderIsReplaced) {
  fs::create_directories(dir_);
  const auto path = dir_ / "p.csv";
  std::ofstream(path) << "ts,sym";
  auto s = make(path);
  ASSERT_TRUE(s->open().ok());
  ASSERT_TRUE(s->close().ok());
  EXPECT_EQ(read_file(path), std::string(CsvAppendSink::kHeader) + "\n");
}

TEST_F(CsvAppendTest, UnwritablePathIsAClearErrorAtOpen) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "blocker") << "a file, not a directory\n";
  const auto path = dir_ / "blocker" / "sub" / "p.csv";
  auto s = make(path);
  Status st = s->open();
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().transient);
  EXPECT_EQ(st.error().message, "sinks.csv_append[0] (" + path.string() + "): cannot create directory '" +
                                    (dir_ / "blocker" / "sub").string() + "': Not a directory");
}

TEST_F(CsvAppendTest, ForeignHeaderIsRefused) {
  fs::create_directories(dir_);
  const auto path = dir_ / "p.csv";
  std::ofstream(path) << "a,b,c\n1,2,3\n";
  auto s = make(path);
  Status st = s->open();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "sinks.csv_append[0] (" + path.string() +
                                    "): line 1: unexpected header 'a,b,c', expected "
                                    "'ts,symbol,prediction,dag_name,frame,column,emitted_at'");
}

TEST(TextFormat, Iso8601MatchesTheCommonFormatter) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> ms(-2'000'000'000'000, 4'000'000'000'000);
  std::string out;
  for (int i = 0; i < 20000; ++i) {
    int64_t v = ms(rng);
    if (i % 3 == 0) v -= v % 1000;  // whole seconds too
    out.clear();
    append_iso8601(out, v);
    ASSERT_EQ(out, format_iso8601(v)) << v;
  }
}

TEST(TextFormat, Iso8601WriterMatchesTheCommonFormatterInAnyOrder) {
  // In time order (the date remembered from call to call), across midnights,
  // and at random (a new date almost every call), negative times included.
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> ms(-2'000'000'000'000, 4'000'000'000'000);
  std::uniform_int_distribution<int64_t> step(0, 4 * kHour);
  Iso8601Writer writer;
  char buf[64];
  int64_t t = -3 * 86'400'000 - 1;
  for (int i = 0; i < 20000; ++i) {
    const int64_t v = i % 2 == 0 ? (t += step(rng)) : ms(rng) - (i % 3 == 0 ? ms(rng) % 1000 : 0);
    ASSERT_EQ(std::string(buf, writer.put(buf, v)), format_iso8601(v)) << v;
  }
}

TEST_F(CsvAppendTest, LongNamesAndNanFormatLikeShortOnes) {
  // Names too long for the line buffer take the other path; same text either way.
  const std::string long_symbol(600, 'S');
  const std::string long_column = "col,\"" + std::string(300, 'c') + "\"";
  const auto path = dir_ / "p.csv";
  auto s = make(path);
  ASSERT_TRUE(s->open().ok());
  PredictionRecord long_one = rec(kT0, long_symbol, std::nan(""), kT0 + 86'400'000 + 5);
  long_one.column = &long_column;
  std::vector<PredictionRecord> batch{long_one, rec(kT0, kBtc, std::nan(""), kT0 + 86'400'000 + 5)};
  ASSERT_TRUE(s->write(batch).ok());
  ASSERT_TRUE(s->flush().ok());
  EXPECT_EQ(read_file(path), "ts,symbol,prediction,dag_name,frame,column,emitted_at\n"
                             "2025-12-26T13:00:00Z," + long_symbol + ",nan,minimal,ohlcv,\"col,\"\"" +
                                 std::string(300, 'c') + "\"\"\",2025-12-27T13:00:00.005Z\n"
                             "2025-12-26T13:00:00Z,BTCUSDT,nan,minimal,ohlcv,model.prediction,"
                             "2025-12-27T13:00:00.005Z\n");
  ASSERT_TRUE(s->close().ok());
}

TEST(CsvAppendDescriptor, ParamsAndChecks) {
  SinkRegistry reg;
  register_builtins(reg);
  const auto* e = reg.find("sinks.csv_append");
  ASSERT_NE(e, nullptr);
  const auto& d = e->descriptor;
  EXPECT_EQ(d.kind, registry::PluginKind::kSink);
  EXPECT_EQ(d.input, registry::InputKind::kNone);
  EXPECT_EQ(d.output, registry::OutputKind::kNone);
  ASSERT_EQ(d.params.size(), 3u);  // every sink's ts_label, then path and dedup_key
  EXPECT_EQ(d.params[0].name, "ts_label");
  EXPECT_FALSE(d.params[0].required);
  EXPECT_EQ(d.params[1].name, "path");
  EXPECT_TRUE(d.params[1].required);
  EXPECT_EQ(d.params[2].name, "dedup_key");
  EXPECT_EQ(registry::format_param_value(d.params[2].default_value), "[ts, symbol]");
  registry::Params p;
  p.set("path", std::string("x.csv"));
  EXPECT_EQ(d.warmup_rows(p), 1);
  p.set("dedup_key", std::vector<std::string>{"symbol", "colum"});
  EXPECT_EQ(d.check(p), (std::vector<std::string>{
                            "dedup_key: unknown field 'colum' (expected one of ts, symbol, dag_name, frame, column)",
                            "dedup_key: must include ts (the high-water mark is kept per the other fields)"}));
  p.set("dedup_key", std::vector<std::string>{"ts", "symbol", "dag_name"});
  EXPECT_TRUE(d.check(p).empty());
}

TEST_F(CsvAppendTest, BehindTheEmitterFromTheRegistry) {
  SinkRegistry reg;
  register_builtins(reg);
  registry::Params p;
  p.set("path", (dir_ / "out" / "p.csv").string());
  p.set("dedup_key", std::vector<std::string>{"ts", "symbol"});
  for (int run = 0; run < 2; ++run) {
    auto sink = reg.find("sinks.csv_append")->factory(SinkContext{p, "sinks.csv_append[0]", kDag, kPlanA});
    ASSERT_TRUE(sink.ok());
    SignalEmitter e;
    e.add("sinks.csv_append[0]", std::move(sink.value()));
    ASSERT_TRUE(e.open_all().ok());
    for (int i = 0; i < 20 + run * 5; ++i) {
      e.emit(rec(kT0 + i * kHour, kBtc, i));
      e.emit(rec(kT0 + i * kHour, kEth, -i));
    }
    ASSERT_TRUE(e.close().ok());
    EXPECT_EQ(e.stats()[0].sent, (20u + run * 5u) * 2u);
  }
  EXPECT_EQ(count_lines(read_file(dir_ / "out" / "p.csv")), 1u + 50u);
}

// Trap 1 of issue 18: a re-run of a changed plan over an existing file must not
// keep the old rows and skip the new ones without a word.
TEST_F(CsvAppendTest, FileOfAnotherPlanOfThePipelineIsRefused) {
  const fs::path path = dir_ / "p.csv";
  write_range(path, 0, 3);
  EXPECT_EQ(read_file(dir_ / "p.csv.plan"),
            "# alpha_forge: the pipelines (plan fingerprint, name) whose predictions the file beside this one holds\n"
            "0123456789abcdef minimal\n");
  CsvAppendSink other("sinks.csv_append[0]", path.string(), {RecordField::kTs, RecordField::kSymbol},
                      CsvAppendSink::PlanIdentity{kDag, kPlanB});
  auto st = other.open();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "sinks.csv_append[0] (" + path.string() +
                "): holds 4 predictions of a different plan of pipeline 'minimal' (fingerprint 0123456789abcdef in " +
                path.string() + ".plan, this plan's is fedcba9876543210): its rows would be kept and this run's "
                "skipped; start the outputs anew with `replay --fresh` (or delete the file and its .plan), or give "
                "the sink a new path");
  EXPECT_FALSE(st.error().transient);
  EXPECT_EQ(count_lines(read_file(path)), 1u + 4u);  // untouched
}

TEST_F(CsvAppendTest, FreshStartsTheFileAnewForTheNewPlan) {
  const fs::path path = dir_ / "p.csv";
  write_range(path, 0, 3);
  CsvAppendSink fresh("sinks.csv_append[0]", path.string(), {RecordField::kTs, RecordField::kSymbol},
                      CsvAppendSink::PlanIdentity{kDag, kPlanB}, /*fresh=*/true);
  ASSERT_TRUE(fresh.open().ok());
  std::vector<PredictionRecord> batch{rec(kT0, kBtc, 9.5), rec(kT0 + kHour, kBtc, 8.5)};
  ASSERT_TRUE(fresh.write(batch).ok());
  ASSERT_TRUE(fresh.close().ok());
  EXPECT_EQ(fresh.skipped(), 0u);
  const std::string text = read_file(path);
  EXPECT_EQ(count_lines(text), 1u + 2u);
  EXPECT_NE(text.find("2025-12-26T13:00:00Z,BTCUSDT,9.5,"), std::string::npos) << text;
  EXPECT_NE(read_file(dir_ / "p.csv.plan").find("fedcba9876543210 minimal\n"), std::string::npos);
  // The file now holds plan B's records only: plan A is refused.
  auto again = make(path);
  EXPECT_FALSE(again->open().ok());  // plan A is not the file's plan any more
}

TEST_F(CsvAppendTest, SkippedRecordsAreCounted) {
  const fs::path path = dir_ / "p.csv";
  write_range(path, 0, 3);
  auto s = make(path);
  ASSERT_TRUE(s->open().ok());
  std::vector<PredictionRecord> batch;
  for (int i = 0; i <= 5; ++i) batch.push_back(rec(kT0 + i * kHour, kBtc, i));
  ASSERT_TRUE(s->write(batch).ok());
  ASSERT_TRUE(s->close().ok());
  EXPECT_EQ(s->skipped(), 4u);
  EXPECT_EQ(s->written(), 2u);
}

TEST_F(CsvAppendTest, RecordsWithoutAPlanRecordAreRefused) {
  const fs::path path = dir_ / "p.csv";
  write_range(path, 0, 1);
  fs::remove(dir_ / "p.csv.plan");
  auto s = make(path);
  auto st = s->open();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "sinks.csv_append[0] (" + path.string() + "): holds 2 predictions but no " + path.string() +
                ".plan says which plan wrote them: its rows would be kept and this run's skipped; start the outputs "
                "anew with `replay --fresh` (or delete the file and its .plan), or give the sink a new path");
}

TEST_F(CsvAppendTest, SecondPipelineNeedsDagNameInTheKey) {
  const fs::path path = dir_ / "p.csv";
  write_range(path, 0, 1);
  CsvAppendSink other("sinks.csv_append[0]", path.string(), {RecordField::kTs, RecordField::kSymbol},
                      CsvAppendSink::PlanIdentity{"other", kPlanB});
  auto st = other.open();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("holds predictions of pipeline 'minimal' and its dedup_key lacks dag_name"),
            std::string::npos)
      << st.error().message;
  CsvAppendSink keyed("sinks.csv_append[0]", path.string(),
                      {RecordField::kTs, RecordField::kSymbol, RecordField::kDagName},
                      CsvAppendSink::PlanIdentity{"other", kPlanB});
  ASSERT_TRUE(keyed.open().ok());
  ASSERT_TRUE(keyed.close().ok());
  EXPECT_EQ(read_file(dir_ / "p.csv.plan"),
            "# alpha_forge: the pipelines (plan fingerprint, name) whose predictions the file beside this one holds\n"
            "0123456789abcdef minimal\nfedcba9876543210 other\n");
}

}  // namespace
}  // namespace af::sinks
