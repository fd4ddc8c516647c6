// The prediction message of sinks.nats: subject, id and payload.

#include <gtest/gtest.h>

#include <limits>

#include "nats/prediction_message.hpp"
#include "support/prediction_records.hpp"

namespace af::nats {
namespace {

const std::string kDag = "btc_momentum";
const std::string kSym = "BTCUSDT";
const std::string kFrame = "ohlcv";
const std::string kColumn = "y\"hat\n";

const test::RecordLabels kLabels{kDag, kFrame, kColumn, BarOrigin::kArchive};

PredictionRecord rec(double prediction) { return kLabels.record(1'735'689'600'000, kSym, prediction, 1'735'693'200'123); }

TEST(PredictionMessage, SubjectIdAndPayload) {
  const auto r = rec(0.1 + 0.2);
  EXPECT_EQ(prediction_subject("af.predictions", r), "af.predictions.btc_momentum.BTCUSDT");
  EXPECT_EQ(prediction_msg_id(r), "btc_momentum#BTCUSDT#1735689600000");
  std::string out;
  append_prediction_json(out, r);
  EXPECT_EQ(out, "{\"dag_name\":\"btc_momentum\",\"symbol\":\"BTCUSDT\",\"ts\":1735689600000,"
                 "\"prediction\":0.30000000000000004,\"frame\":\"ohlcv\",\"column\":\"y\\\"hat\\n\","
                 "\"emitted_at\":1735693200123,\"origin\":\"archive\"}");
}

TEST(PredictionMessage, NonFinitePredictionIsAString) {
  std::string out;
  append_prediction_json(out, rec(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_NE(out.find("\"prediction\":\"nan\""), std::string::npos) << out;
  out.clear();
  append_prediction_json(out, rec(-std::numeric_limits<double>::infinity()));
  EXPECT_NE(out.find("\"prediction\":\"-inf\""), std::string::npos) << out;
}

TEST(PredictionMessage, SubjectPrefixes) {
  EXPECT_EQ(subject_prefix_problem("af.predictions"), "");
  EXPECT_EQ(subject_prefix_problem("desk1"), "");
  EXPECT_EQ(subject_prefix_problem("af..x"), "'af..x' is not a subject prefix: token '' is empty");
  EXPECT_EQ(subject_prefix_problem("af.>"), "'af.>' is not a subject prefix: token '>' contains the wildcard '>'");
  EXPECT_EQ(subject_prefix_problem(""), "'' is not a subject prefix: token '' is empty");
  EXPECT_EQ(subject_prefix_problem("af.x."), "'af.x.' is not a subject prefix: token '' is empty");
}

}  // namespace
}  // namespace af::nats
