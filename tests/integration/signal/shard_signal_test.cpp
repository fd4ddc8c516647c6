// `signal --shard K/N` against the simulated exchange (issue 14 item 3): a shard
// subscribes to, downloads and computes only the symbols it owns. The exchange
// records every symbol a client asked about (streams, REST, archive files), so
// "never touched another shard's symbol" is checked where it happens, on the wire.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "support/signal_scenario.hpp"

namespace af {
namespace {

using testing::read_csv_predictions;
using testing::run_command;
using testing::SimMarket;
using testing::TempDir;
using testing::write_file;

// FNV-1a 64 of the symbol modulo 2, plus 1 (tests/unit/common/shard_test.cpp has
// the vectors): BTCUSDT and ETHUSDT are on shard 1, SOLUSDT on shard 2.
TEST(ShardSignal, AShardSubscribesToAndComputesOnlyItsSymbols) {
  TempDir dir;
  SimMarket market;
  testing::SimMarketOptions mo;
  mo.symbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};
  ASSERT_EQ(market.start(dir.path().string(), mo), "");
  const std::string csv = dir / "shard2.csv";
  write_file(dir / "p.yaml", testing::rsi_linear_pipeline("shard", csv, "BTCUSDT, ETHUSDT, SOLUSDT"));
  auto p = testing::start_signal(dir / "p.yaml", market, dir / "shard2",
                                 {"--state-dir", dir / "state", "--cache-dir", dir / "cache", "--snapshot-every", "1",
                                  "--metrics-port", "0", "--anchor-timeout", "20", "--shard", "2/2"});
  const std::string url = testing::wait_metrics_url(*p);
  ASSERT_FALSE(url.empty()) << p->err();
  ASSERT_TRUE(testing::wait_for_predictions(*p, csv, 30)) << p->err();

  const auto status = nlohmann::json::parse(run_command("curl -s -m 5 " + url + "/status").out, nullptr, false);
  ASSERT_FALSE(status.is_discarded());
  std::set<std::string> status_symbols;
  for (const auto& s : status["symbols"]) status_symbols.insert(s["symbol"].get<std::string>());
  EXPECT_EQ(status_symbols, std::set<std::string>{"SOLUSDT"}) << status.dump();

  EXPECT_EQ(testing::stop_service(*p, SIGTERM), 0) << p->err();
  EXPECT_NE(p->out().find("signal shard (" + (dir / "p.yaml") + ") shard 2/2\n"), std::string::npos) << p->out();
  EXPECT_NE(p->out().find("    this shard's symbols: SOLUSDT\n"), std::string::npos) << p->out();
  const auto predictions = read_csv_predictions(csv);
  EXPECT_EQ(predictions.duplicates, 0u);
  std::set<std::string> predicted;
  for (const auto& [key, value] : predictions.rows) predicted.insert(key.second);
  EXPECT_EQ(predicted, std::set<std::string>{"SOLUSDT"});
  // Stream, REST and archive requests alike: the other shard's symbols were never asked for.
  EXPECT_EQ(market.exchange().stats().symbols_requested, std::set<std::string>{"SOLUSDT"});
  EXPECT_GT(market.exchange().stats().archive_requests, 0u) << "the warmup went through the archive";
}

}  // namespace
}  // namespace af
