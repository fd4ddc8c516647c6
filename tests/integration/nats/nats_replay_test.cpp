// End to end: `alpha_forge replay` with sinks.nats beside sinks.csv_append; a
// JetStream subscriber of the predictions' subjects reads every record, and the
// records equal the CSV's, each once. Needs the shared node of
// scripts/test_servers.sh (AF_TEST_NATS_URL).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "common/time.hpp"
#include "nats/bus_connection.hpp"
#include "stream_reader.hpp"
#include "support/process.hpp"

namespace af::nats {
namespace {

using af::testing::run_command;
using af::testing::split;
using af::testing::split_lines;
using af::testing::TempDir;
using af::testing::write_file;

const std::string kBinary = AF_BINARY;

std::string pipeline(const std::string& url, const std::string& stream, const std::string& prefix,
                     const std::string& csv) {
  return R"(name: nats_replay
signal_generation:
  mode: stream
  warmup:
    lookback_days: 5
  scheduling:
    interval: 1h
    buffer_minutes: 2
  on_prediction:
    - using: sinks.csv_append
      params:
        path: )" + csv + R"(
    - using: sinks.nats
      params:
        url: ")" + url + R"("
        stream: )" + stream + R"(
        subject_prefix: )" + prefix + R"(
        create_stream: true
pipeline:
  - data:
      using: data.binance_futures
      outputs: {frame: ohlcv}
      params:
        universe: [AAAUSDT, BBBUSDT]
        interval: 1h
  - features:
      using: features.momentum
      inputs: {column: ohlcv.close}
      outputs: {columns: [mom_20]}
      params: {window: 20}
  - model:
      using: models.linear
      inputs: {frame: ohlcv}
      outputs: {columns: [model.prediction]}
      params:
        features: [mom_20]
        weights: [-5.0]
        bias: 0.5
        activation: tanh
)";
}

TEST(NatsReplay, SubscriberReadsEveryPredictionOnceEqualToTheCsv) {
  const char* u = std::getenv("AF_TEST_NATS_URL");
  if (!u || !*u) GTEST_SKIP() << "AF_TEST_NATS_URL is not set (scripts/test_servers.sh starts nats-server)";
  const std::string url = u;
  const std::string stream = "AFTEST_REPLAY_" + std::to_string(::getpid());
  const std::string prefix = "aftest.r" + std::to_string(::getpid());
  auto options = parse_bus_options(url);
  ASSERT_TRUE(options);
  auto bus = BusConnection::connect(*options);
  ASSERT_TRUE(bus) << bus.error().message;
  testing::delete_stream(**bus, stream);

  TempDir dir;
  ASSERT_EQ(run_command(kBinary + " synth-data --out " + (dir / "mirror") +
                        " --symbols AAAUSDT,BBBUSDT --interval 1h --from 2025-01-01 --to 2025-03-01 --seed 11")
                .exit_code,
            0);
  write_file(dir.path() / "p.yaml", pipeline(url, stream, prefix, dir / "out.csv"));
  auto r = run_command(kBinary + " replay " + (dir / "p.yaml") + " --data " + (dir / "mirror") + " --from 2025-02-01");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // The CSV: (ts ms, symbol) -> prediction.
  std::map<std::pair<int64_t, std::string>, double> csv;
  const auto lines = split_lines(af::testing::read_file(dir / "out.csv"));
  ASSERT_GT(lines.size(), 1000u);
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = split(lines[i], ',');
    const auto ts = parse_iso8601(f[0]);
    ASSERT_TRUE(ts) << f[0];
    csv[{*ts, f[1]}] = std::stod(f[2]);
  }

  // A subscriber: an ephemeral consumer from the stream's start on the pipeline's subjects.
  natsSubscription* sub = nullptr;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Config.DeliverPolicy = js_DeliverAll;
  jsErrCode code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_SubscribeSync(&sub, (*bus)->jetstream(), (prefix + ".nats_replay.>").c_str(), nullptr, &so, &code), NATS_OK)
      << code;
  std::map<std::pair<int64_t, std::string>, double> received;
  size_t messages = 0;
  while (messages < csv.size() + 10) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, 2000) != NATS_OK) break;  // 2 s of silence: the stream is drained
    ++messages;
    const auto j = nlohmann::json::parse(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)));
    const std::string subject = natsMsg_GetSubject(msg);
    const std::string symbol = j.at("symbol").get<std::string>();
    EXPECT_EQ(subject, prefix + ".nats_replay." + symbol);
    const char* id = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(msg, "Nats-Msg-Id", &id), NATS_OK);
    EXPECT_EQ(std::string(id), "nats_replay#" + symbol + "#" + std::to_string(j.at("ts").get<int64_t>()));
    EXPECT_TRUE(received.emplace(std::make_pair(j.at("ts").get<int64_t>(), symbol), j.at("prediction").get<double>()).second)
        << "twice: " << id;
    natsMsg_Ack(msg, nullptr);
    natsMsg_Destroy(msg);
  }
  natsSubscription_Destroy(sub);
  testing::delete_stream(**bus, stream);
  EXPECT_EQ(messages, csv.size());
  EXPECT_EQ(received, csv);  // the same records, the same values bit for bit
}

}  // namespace
}  // namespace af::nats
