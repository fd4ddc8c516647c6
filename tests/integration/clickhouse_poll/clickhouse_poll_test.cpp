// data.clickhouse_poll against a real ClickHouse server (scripts/test_servers.sh;
// skips when AF_CLICKHOUSE_URL is unset). Bars are written with curl, an
// independent client, and read back through the replay DataSource, the live
// ClickHousePollFeed (with a test clock, so that 1m bars pass in milliseconds),
// and `alpha_forge replay` end to end against the same bars from a Vision mirror.

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <cmath>
#include <random>

#include "common/interval.hpp"
#include "common/time.hpp"
#include "registry/param.hpp"
#include "clickhouse/clickhouse_poll_feed.hpp"
#include "clickhouse/clickhouse_source.hpp"
#include "clickhouse/register_builtins.hpp"
#include "vision/vision_source.hpp"
#include "support/child_process.hpp"
#include "support/process.hpp"

namespace af::clickhouse {
namespace {

using af::testing::read_file;
using af::testing::run_command;
using af::testing::split;
using af::testing::split_lines;
using af::testing::TempDir;
using af::testing::wait_until;
using af::testing::write_file;
using namespace std::chrono_literals;

constexpr int64_t kMin = 60'000;
constexpr int64_t kT0 = 1'766'754'000'000;  // 2025-12-26T13:00:00Z

std::string env(const char* n) {
  const char* v = std::getenv(n);
  return v ? v : "";
}

// One statement (and its data) through curl; the body or "ERROR: ...".
std::string ch(const std::string& url, const std::string& body) {
  TempDir tmp;
  write_file(tmp.path() / "q.sql", body);
  auto r = run_command("curl -sS --max-time 20 --fail-with-body --data-binary @" + (tmp / "q.sql") + " '" + url + "/'");
  if (r.exit_code != 0) return "ERROR: " + r.out + r.err;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::string shortest(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Rows in ClickHouse's RowBinary format. Not text: the text parser of ClickHouse
// 18.16 rounds about one 17-digit Float64 in ten to a neighbouring double (its
// output is exact), so an exact round trip must be written in binary.
struct RowBinary {
  std::string buf;
  template <class T>
  void raw(T v) {
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);  // little-endian, as RowBinary is
    buf.append(b, sizeof v);
  }
  void str(const std::string& v) {
    uint64_t n = v.size();
    do {
      buf += static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>= 7;
    } while (n);
    buf += v;
  }
};

// (symbol String, ts UInt64, open..quote_volume Float64, trades UInt64, taker_* Float64)
std::string binary_rows(const std::string& symbol, const std::vector<Bar>& bars) {
  RowBinary rb;
  for (const Bar& b : bars) {
    rb.str(symbol);
    rb.raw<uint64_t>(static_cast<uint64_t>(b.ts));
    for (double v : {b.open, b.high, b.low, b.close, b.volume, b.quote_volume}) rb.raw<double>(v);
    rb.raw<uint64_t>(static_cast<uint64_t>(b.trades));
    rb.raw<double>(b.taker_buy_volume);
    rb.raw<double>(b.taker_buy_quote_volume);
  }
  return rb.buf;
}

// INSERT ... FORMAT RowBinary through curl (the query in the URL, the rows as the body).
std::string ch_insert_binary(const std::string& url, const std::string& table, const std::string& rows) {
  TempDir tmp;
  write_file(tmp.path() / "rows.bin", rows);
  auto r = run_command("curl -sS --max-time 20 --fail-with-body --data-binary @" + (tmp / "rows.bin") + " '" + url +
                       "/?query=INSERT%20INTO%20default." + table + "%20FORMAT%20RowBinary'");
  if (r.exit_code != 0) return "ERROR: " + r.out + r.err;
  return r.out;
}

// Bars with values that test number round trips (many digits, tiny, large).
std::vector<Bar> make_bars(int64_t from, int n, int64_t interval, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Bar> bars;
  double price = 42'000.123456789;
  for (int i = 0; i < n; ++i) {
    Bar b;
    b.ts = from + i * interval;
    b.open = price;
    b.close = price * (1 + (u(rng) - 0.5) * 0.01);
    b.high = std::max(b.open, b.close) + u(rng);
    b.low = std::min(b.open, b.close) - u(rng) * 1e-7;
    b.volume = u(rng) * 1e3;
    b.quote_volume = b.volume * price;
    b.trades = std::floor(u(rng) * 10'000);
    b.taker_buy_volume = b.volume * u(rng);
    b.taker_buy_quote_volume = b.taker_buy_volume * price;
    price = b.close;
    bars.push_back(b);
  }
  return bars;
}

const char* kColumnsDdl =
    "open Float64, high Float64, low Float64, close Float64, volume Float64, quote_volume Float64, "
    "trades UInt64, taker_buy_volume Float64, taker_buy_quote_volume Float64";

std::string unique_table() {
  std::random_device rd;
  return "bars_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1'000'000);
}

ClickHouseBarTableConfig config(const std::string& url, const std::string& table) {
  ClickHouseBarTableConfig c;
  c.url = url;
  c.table_name = table;
  c.timeout_ms = 5000;
  return c;
}

void expect_same_bars(const std::vector<Bar>& got, const std::vector<Bar>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i].same_values(want[i])) << "bar " << i << " ts=" << format_iso8601(want[i].ts)
                                             << " got close=" << shortest(got[i].close)
                                             << " want close=" << shortest(want[i].close);
  }
}

class ClickHousePollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = env("AF_CLICKHOUSE_URL");
    if (url_.empty())
      GTEST_SKIP() << "AF_CLICKHOUSE_URL is not set: scripts/test_servers.sh start DIR, then "
                      "eval \"$(scripts/test_servers.sh env DIR)\"";
    table_ = unique_table();
  }
  void TearDown() override {
    if (!url_.empty()) ch(url_, "DROP TABLE IF EXISTS default." + table_);
  }
  void create(const std::string& engine, const std::string& ts_type = "UInt64") {
    ASSERT_EQ(ch(url_, "CREATE TABLE default." + table_ + " (symbol String, ts " + ts_type + ", " + kColumnsDdl +
                           ") ENGINE = " + engine + " ORDER BY (symbol, ts)"),
              "");
  }
  void insert(const std::string& symbol, const std::vector<Bar>& bars) {
    ASSERT_EQ(ch_insert_binary(url_, table_, binary_rows(symbol, bars)), "");
  }
  std::string url_, table_;
};

TEST_F(ClickHousePollTest, HistoryReadsExactlyTheInsertedBars) {
  create("MergeTree");
  const auto btc = make_bars(kT0, 300, kMin, 1);
  const auto eth = make_bars(kT0 + 7 * kMin, 200, kMin, 2);
  insert("BTCUSDT", btc);
  insert("ETHUSDT", eth);
  ClickHouseSource src(config(url_, table_));
  auto all = src.history("BTCUSDT", 0, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(all.ok()) << all.error().message;
  expect_same_bars(*all, btc);
  // [from, to): from inclusive, to exclusive, on bar boundaries and between them.
  auto part = src.history("ETHUSDT", kT0 + 10 * kMin, kT0 + 20 * kMin + 1);
  ASSERT_TRUE(part.ok()) << part.error().message;
  expect_same_bars(*part, std::vector<Bar>(eth.begin() + 3, eth.begin() + 14));
  auto none = src.history("SOLUSDT", 0, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto e = src.earliest("ETHUSDT");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ(**e, kT0 + 7 * kMin);
  auto e2 = src.earliest("SOLUSDT");
  ASSERT_TRUE(e2.ok());
  EXPECT_FALSE(e2->has_value());
}

TEST_F(ClickHousePollTest, DateTimeColumnAndMappedNamesAndMissingOptionalColumns) {
  ASSERT_EQ(ch(url_, "CREATE TABLE default." + table_ +
                         " (sym String, open_time DateTime('UTC'), o Float64, h Float64, l Float64, c Float64, "
                         "v Float64) ENGINE = MergeTree ORDER BY (sym, open_time)"),
            "");
  const auto bars = make_bars(kT0, 50, kMin, 3);
  RowBinary rb;
  for (const Bar& b : bars) {
    rb.str("BTCUSDT");
    rb.raw<uint32_t>(static_cast<uint32_t>(b.ts / 1000));
    for (double v : {b.open, b.high, b.low, b.close, b.volume}) rb.raw<double>(v);
  }
  ASSERT_EQ(ch_insert_binary(url_, table_, rb.buf), "");
  registry::Params p;
  p.set("url", url_);
  p.set("table_name", table_);
  p.set("ts_column", std::string("open_time"));
  p.set("symbol_column", std::string("sym"));
  for (auto [param, col] : {std::pair{"open_column", "o"}, {"high_column", "h"}, {"low_column", "l"},
                            {"close_column", "c"}, {"volume_column", "v"}})
    p.set(param, std::string(col));
  ClickHouseSource src(clickhouse_bar_table_config(p));
  auto got = src.history("BTCUSDT", kT0 + 5 * kMin - 1, kT0 + 10 * kMin);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const Bar& want = bars[5 + i];
    EXPECT_EQ((*got)[i].ts, want.ts);
    EXPECT_EQ((*got)[i].open, want.open);
    EXPECT_EQ((*got)[i].close, want.close);
    EXPECT_EQ((*got)[i].volume, want.volume);
    EXPECT_TRUE(std::isnan((*got)[i].quote_volume));
    EXPECT_TRUE(std::isnan((*got)[i].trades));
  }
  // A mapped optional column that the table lacks is an error, naming it.
  p.set("trades_column", std::string("n_trades"));
  ClickHouseSource bad(clickhouse_bar_table_config(p));
  auto err = bad.history("BTCUSDT", 0, kT0 + 10 * kMin);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("table lacks column(s) n_trades (trades_column)"), std::string::npos)
      << err.error().message;
}

TEST_F(ClickHousePollTest, TwiceInsertedRowsAreOneBar) {
  create("ReplacingMergeTree");
  const auto bars = make_bars(kT0, 20, kMin, 4);
  insert("BTCUSDT", bars);
  insert("BTCUSDT", std::vector<Bar>(bars.begin() + 5, bars.begin() + 10));  // the same rows again
  // A revised version of bar 12: a ReplacingMergeTree keeps the last insert.
  Bar revised = bars[12];
  revised.close += 1;
  insert("BTCUSDT", {revised});
  ASSERT_EQ(ch(url_, "SELECT count() FROM default." + table_), "26") << "three separate parts, not merged yet";
  ClickHouseSource src(config(url_, table_));
  auto got = src.history("BTCUSDT", kT0, kT0 + 20 * kMin);
  ASSERT_TRUE(got.ok()) << got.error().message;
  std::vector<Bar> want = bars;
  want[12] = revised;
  expect_same_bars(*got, want);

  // A plain MergeTree has no FINAL: the duplicates are collapsed in the reader.
  ch(url_, "DROP TABLE default." + table_);
  create("MergeTree");
  insert("BTCUSDT", bars);
  insert("BTCUSDT", std::vector<Bar>(bars.begin(), bars.begin() + 10));
  ClickHouseBarTable table(config(url_, table_));
  auto read = table.read({BarRange{"BTCUSDT", kT0, kT0 + 20 * kMin}}, BarOrigin::kArchive);
  ASSERT_TRUE(read.ok()) << read.error().message;
  expect_same_bars(read->front(), bars);
  EXPECT_EQ(table.stats().rows, 30u);
  EXPECT_EQ(table.stats().duplicates, 10u);
}

TEST_F(ClickHousePollTest, MissingTableIsAFatalErrorNamingIt) {
  ClickHouseSource src(config(url_, table_));
  auto got = src.history("BTCUSDT", 0, kT0);
  ASSERT_FALSE(got.ok());
  EXPECT_FALSE(got.error().transient);
  EXPECT_NE(got.error().message.find("table default." + table_ + "): table does not exist"), std::string::npos)
      << got.error().message;
}

TEST(ClickHousePollDescriptor, ChecksParams) {
  DataSourceRegistry reg;
  SinkRegistry sinks;
  register_builtins(reg, sinks);
  const auto* e = reg.find("data.clickhouse_poll");
  ASSERT_NE(e, nullptr);
  registry::Params p;
  p.set("url", std::string("ws://127.0.0.1:8123"));
  p.set("table_name", std::string(""));
  p.set("close_column", std::string(""));
  const auto problems = e->descriptor.check(p);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0], "url: 'ws://127.0.0.1:8123' is not an http:// or https:// URL");
  EXPECT_EQ(problems[1], "table_name: empty");
  EXPECT_EQ(problems[2], "close_column: empty");
}

// The live feed over a table someone else fills, with a test clock.
class ClickHousePollFeedTest : public ClickHousePollTest {
 protected:
  std::unique_ptr<ClickHousePollFeed> make_feed(std::atomic<int64_t>& clock) {
    ClickHousePollFeedOptions o;
    o.table = config(url_, table_);
    o.universe = {"BTCUSDT", "ETHUSDT"};
    o.interval_ms = kMin;
    o.buffer_ms = 5'000;
    o.poll_every_ms = 20;
    o.max_rows_per_query = 55;  // the history of each symbol in a query of its own
    o.clock = [&clock] { return clock.load(); };
    return std::make_unique<ClickHousePollFeed>(std::move(o));
  }
  // Polls until `n` bars arrived or 5 s passed.
  static std::vector<LiveFeedBar> take(LiveFeed& feed, size_t n) {
    std::vector<LiveFeedBar> out;
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (out.size() < n && std::chrono::steady_clock::now() < end) feed.poll(out, 50);
    return out;
  }
  // Nothing more arrives within a few polls.
  static void expect_quiet(LiveFeed& feed) {
    std::vector<LiveFeedBar> out;
    feed.poll(out, 200);
    EXPECT_TRUE(out.empty()) << out.size() << " unexpected bars, first ts " << format_iso8601(out.front().bar.ts);
  }
};

TEST_F(ClickHousePollFeedTest, HistoryThenEveryClosedBarOnceInOrderAndGapsNeverInvented) {
  create("ReplacingMergeTree");
  const int64_t anchor = kT0 + 60 * kMin;
  const auto btc = make_bars(kT0, 70, kMin, 5);  // 60 history bars, then 10 live ones
  const auto eth = make_bars(kT0, 70, kMin, 6);
  insert("BTCUSDT", std::vector<Bar>(btc.begin(), btc.begin() + 60));
  insert("ETHUSDT", std::vector<Bar>(eth.begin(), eth.begin() + 60));
  // The bar in progress is already in the table (an ingester writing partial bars):
  // it must not be emitted before it closes.
  insert("BTCUSDT", {btc[60]});

  std::atomic<int64_t> clock{anchor + 20'000};
  auto feed = make_feed(clock);
  ASSERT_TRUE(feed->start().ok());
  ASSERT_EQ(feed->anchor(), anchor);
  feed->begin_history({kT0 + 10 * kMin, kT0}, true);
  auto hist = take(*feed, 110);
  ASSERT_EQ(hist.size(), 110u);
  ASSERT_TRUE(wait_until([&] { return feed->history_done(); }, 2s));
  size_t n_btc = 0, n_eth = 0;
  for (const auto& b : hist) {
    EXPECT_TRUE(b.history);
    EXPECT_EQ(b.bar.origin, BarOrigin::kArchive);
    const auto& src = b.symbol == 0 ? btc : eth;
    size_t& n = b.symbol == 0 ? n_btc : n_eth;
    const size_t i = (b.symbol == 0 ? 10 : 0) + n++;
    EXPECT_TRUE(b.bar.same_values(src[i])) << b.symbol << " " << i;
  }
  EXPECT_EQ(n_btc, 50u);
  EXPECT_EQ(n_eth, 60u);
  expect_quiet(*feed);

  // Bar 60 closes: BTC's is emitted; ETH's is not in the table yet (not late before close + buffer).
  clock = anchor + kMin + 1;
  auto live = take(*feed, 1);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_FALSE(live[0].history);
  EXPECT_EQ(live[0].symbol, 0u);
  EXPECT_EQ(live[0].bar.origin, BarOrigin::kRest);
  EXPECT_TRUE(live[0].bar.same_values(btc[60]));
  expect_quiet(*feed);
  EXPECT_EQ(feed->stats().missing_bars, 0u);

  // Past ETH 60's close + buffer: late, counted once however many polls ask again.
  clock = anchor + kMin + 6'000;
  expect_quiet(*feed);
  expect_quiet(*feed);
  EXPECT_EQ(feed->stats().missing_bars, 1u);
  // It arrives late: emitted then, in order.
  insert("ETHUSDT", {eth[60]});
  live = take(*feed, 1);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].symbol, 1u);
  EXPECT_TRUE(live[0].bar.same_values(eth[60]));

  // BTC 61 never comes; BTC 62 does. Before 61's deadline, 62 waits; after it, 61 is a real gap.
  insert("BTCUSDT", {btc[62]});
  insert("ETHUSDT", {eth[61], eth[62]});
  clock = anchor + 3 * kMin + 1;  // 61 and 62 closed; 61's deadline (anchor + 2m + 5 s) passed
  live = take(*feed, 3);
  ASSERT_EQ(live.size(), 3u);
  std::vector<std::pair<uint32_t, int64_t>> got;
  for (const auto& b : live) got.emplace_back(b.symbol, b.bar.ts);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::pair<uint32_t, int64_t>>{
                     {0, anchor + 2 * kMin}, {1, anchor + kMin}, {1, anchor + 2 * kMin}}));
  expect_quiet(*feed);
  auto st = feed->stats();
  EXPECT_EQ(st.real_gaps, 1u);
  EXPECT_EQ(st.missing_bars, 2u);
  EXPECT_EQ(st.live_bars, 5u);
  EXPECT_EQ(st.history_bars, 110u);
  EXPECT_GT(st.requests, 6u);
  EXPECT_EQ(st.rows_read, 110u + 5) << "the history, then each live bar read once";
  EXPECT_EQ(st.request_failures, 0u);
  EXPECT_GT(st.last_data_ms, 0);
  EXPECT_EQ(feed->stale_after_ms(), 3 * kMin + 5'000);
  // BTC 61 shows up after the feed moved on: never emitted out of order.
  insert("BTCUSDT", {btc[61]});
  expect_quiet(*feed);
  feed->stop();
  EXPECT_FALSE(feed->error().has_value());
}

TEST_F(ClickHousePollFeedTest, MissingTableStopsTheFeedWithAnError) {
  std::atomic<int64_t> clock{kT0};
  auto feed = make_feed(clock);
  ASSERT_TRUE(feed->start().ok());
  feed->begin_history({kT0 - kMin, kT0 - kMin}, true);
  std::vector<LiveFeedBar> out;
  ASSERT_TRUE(wait_until([&] { return !feed->poll(out, 20); }, 5s));
  ASSERT_TRUE(feed->error().has_value());
  EXPECT_NE(feed->error()->message.find("table does not exist"), std::string::npos) << feed->error()->message;
}

TEST(ClickHousePollFeedConfig, UnreachableServerIsRetriedNotFatal) {
  std::atomic<int64_t> clock{kT0};
  ClickHousePollFeedOptions o;
  o.table = config("http://127.0.0.1:1", "t");
  o.universe = {"BTCUSDT"};
  o.interval_ms = 1000;  // retries every second
  o.buffer_ms = 100;
  o.clock = [&clock] { return clock.load(); };
  ClickHousePollFeed feed(std::move(o));
  ASSERT_TRUE(feed.start().ok());
  feed.begin_history({kT0}, true);
  ASSERT_TRUE(wait_until([&] { return feed.stats().request_failures >= 1; }, 5s));
  std::vector<LiveFeedBar> out;
  EXPECT_TRUE(feed.poll(out, 10));
  EXPECT_FALSE(feed.error().has_value());
  EXPECT_FALSE(feed.history_done());
  feed.stop();
}

// ---- alpha_forge replay over the table == over a Vision mirror with the same bars.

const std::string kBinary = AF_BINARY;

std::string pipeline(const std::string& data_step, const std::string& csv) {
  return R"(name: ch_parity
signal_generation:
  warmup:
    lookback_days: 3
  scheduling:
    interval: 1h
    buffer_minutes: 2
  on_prediction:
    - using: sinks.csv_append
      params:
        path: )" + csv + R"(
pipeline:
  - data:
)" + data_step + R"(
      outputs: {frame: ohlcv}
  - features:
      using: features.rsi
      inputs: {column: ohlcv.close}
      outputs: {columns: [rsi_14]}
      params: {window: 14}
  - features:
      using: features.vwap
      inputs: {frame: ohlcv}
      outputs: {columns: [vwap_10]}
      params: {window: 10}
  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [model.prediction]}
      params:
        features: [rsi_14, vwap_10]
        weights: [-0.04, 0.0001]
        bias: 2.0
        activation: tanh
)";
}

// Rows of a predictions CSV without emitted_at (wall clock, not part of parity).
std::vector<std::string> predictions(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(read_file(path))) {
    auto f = split(line, ',');
    f.pop_back();
    std::string row;
    for (const auto& x : f) row += x + ",";
    out.push_back(row);
  }
  return out;
}

TEST_F(ClickHousePollTest, ReplayOverTheTableEqualsReplayOverTheVisionMirror) {
  TempDir tmp;
  const std::string mirror = tmp / "mirror";
  auto gen = run_command(kBinary + " synth-data --out " + mirror +
                         " --symbols BTCUSDT,ETHUSDT --interval 1h --from 2024-01-01 --to 2024-01-11 --seed 7");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  create("ReplacingMergeTree");
  vision::VisionSource vision(mirror, vision::VisionMarket::kFuturesUm, kHourMs);
  for (const char* sym : {"BTCUSDT", "ETHUSDT"}) {
    auto bars = vision.history(sym, 0, std::numeric_limits<int64_t>::max());
    ASSERT_TRUE(bars.ok()) << bars.error().message;
    ASSERT_EQ(bars->size(), 240u);
    insert(sym, *bars);
    insert(sym, std::vector<Bar>(bars->begin() + 100, bars->begin() + 110));  // a re-sent batch
  }
  const std::string vision_yaml = tmp / "vision.yaml";
  const std::string ch_yaml = tmp / "ch.yaml";
  write_file(vision_yaml, pipeline("      using: data.binance_futures\n      params: {universe: [BTCUSDT, ETHUSDT], "
                                   "interval: 1h}",
                                   tmp / "vision.csv"));
  write_file(ch_yaml, pipeline("      using: data.clickhouse_poll\n      params: {universe: [BTCUSDT, ETHUSDT], "
                               "interval: 1h, url: \"" + url_ + "\", table_name: " + table_ + "}",
                               tmp / "ch.csv"));
  auto v = run_command(kBinary + " replay " + vision_yaml + " --data " + mirror + " --dump ohlcv=" +
                       (tmp / "vision_dump.csv"));
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto c = run_command(kBinary + " replay " + ch_yaml + " --data " + tmp.path().string() + " --dump ohlcv=" +
                       (tmp / "ch_dump.csv"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  // The same anchor, bars, features and predictions.
  EXPECT_EQ(v.out.substr(0, v.out.find(" seconds=")), c.out.substr(0, c.out.find(" seconds=")));
  const auto dump_v = read_file(tmp / "vision_dump.csv");
  EXPECT_GT(split_lines(dump_v).size(), 400u);
  EXPECT_EQ(read_file(tmp / "ch_dump.csv"), dump_v);
  const auto pv = predictions(tmp / "vision.csv");
  EXPECT_GT(pv.size(), 300u);
  EXPECT_EQ(predictions(tmp / "ch.csv"), pv);
  // And --from/--to work the same on both.
  auto v2 = run_command(kBinary + " replay " + vision_yaml + " --data " + mirror +
                        " --from 2024-01-05 --to 2024-01-08");
  auto c2 = run_command(kBinary + " replay " + ch_yaml + " --data " + mirror + " --from 2024-01-05 --to 2024-01-08");
  ASSERT_EQ(v2.exit_code, 0) << v2.err;
  ASSERT_EQ(c2.exit_code, 0) << c2.err;
  EXPECT_EQ(v2.out.substr(0, v2.out.find(" seconds=")), c2.out.substr(0, c2.out.find(" seconds=")));
}

// `alpha_forge signal` over the table: the anchor is the bar in progress at start,
// the history is exactly lookback_days of the table's bars, and SIGINT drains and
// exits 0. (Live bars need a real minute to close: the feed test above covers them.)
TEST_F(ClickHousePollTest, SignalWarmsUpFromTheTableAndStopsCleanly) {
  create("ReplacingMergeTree");
  // Closed bars for a day and more, and the next two (in progress, or closed if the
  // minute turns before the service starts): history is [A - 1 day, A) either way.
  const int64_t now_bucket = now_ms() / kMin * kMin;
  const int64_t first = now_bucket - kDayMs - 30 * kMin;
  const int n = static_cast<int>((now_bucket + 2 * kMin - first) / kMin);
  insert("BTCUSDT", make_bars(first, n, kMin, 8));
  insert("ETHUSDT", make_bars(first, n, kMin, 9));
  TempDir tmp;
  write_file(tmp / "live.yaml", R"(name: ch_live
signal_generation:
  warmup: {lookback_days: 1}
  scheduling: {interval: 1m, buffer_minutes: 1}
  on_prediction:
    - using: sinks.csv_append
      params: {path: )" + (tmp / "p.csv") + R"(}
pipeline:
  - data:
      using: data.clickhouse_poll
      outputs: {frame: ohlcv}
      params: {universe: [BTCUSDT, ETHUSDT], interval: 1m, url: ")" + url_ + R"(", table_name: )" + table_ + R"(}
  - features:
      using: features.rsi
      inputs: {column: ohlcv.close}
      outputs: {columns: [rsi_14]}
      params: {window: 14}
  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [model.prediction]}
      params: {features: [rsi_14], weights: [-0.04], bias: 2.0, activation: tanh}
)");
  af::testing::ChildProcess run({kBinary, "signal", tmp / "live.yaml", "--state-dir", tmp / "state"}, tmp / "out",
                                tmp / "err");
  ASSERT_TRUE(run.started());
  ASSERT_TRUE(wait_until([&] { return run.err().find("warmup done: 2880 bars") != std::string::npos; }, 20s))
      << run.err();
  EXPECT_NE(run.err().find("symbol=BTCUSDT bars=1440"), std::string::npos) << run.err();
  run.signal(SIGINT);
  ASSERT_EQ(run.wait(20s), 0) << run.err();
  EXPECT_NE(run.out().find(" restored=0 history_bars=2880 "), std::string::npos) << run.out();
}

}  // namespace
}  // namespace af::clickhouse
