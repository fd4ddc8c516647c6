// Which failures of the C client are worth retrying.

#include <gtest/gtest.h>

#include "nats/nats_error.hpp"

namespace af::nats {
namespace {

TEST(NatsError, TransientOrFatal) {
  const auto none = static_cast<jsErrCode>(0);
  EXPECT_TRUE(nats_status_transient(NATS_TIMEOUT, none));
  EXPECT_TRUE(nats_status_transient(NATS_NO_SERVER, none));
  EXPECT_TRUE(nats_status_transient(NATS_CONNECTION_CLOSED, none));
  // A stream leader being elected after a node died: seen as no responders, which the
  // client reports with "JetStream not enabled" on the JetStream API.
  EXPECT_TRUE(nats_status_transient(NATS_NO_RESPONDERS, JSNotEnabledErr));
  EXPECT_TRUE(nats_status_transient(NATS_ERR, JSClusterNotAvailErr));
  EXPECT_FALSE(nats_status_transient(NATS_CONNECTION_AUTH_FAILED, none));
  EXPECT_FALSE(nats_status_transient(NATS_ERR, JSStreamNotFoundErr));
  EXPECT_FALSE(nats_status_transient(NATS_ERR, JSStreamSubjectOverlapErr));
  EXPECT_FALSE(nats_status_transient(NATS_INVALID_ARG, none));
}

TEST(NatsError, MessageNamesTheOperationAndTheServerCode) {
  const Error e = nats_error("publish x to y on nats://127.0.0.1:4222", NATS_ERR, JSStreamNotFoundErr);
  EXPECT_EQ(e.message.rfind("NATS: publish x to y on nats://127.0.0.1:4222: ", 0), 0u) << e.message;
  EXPECT_NE(e.message.find("(JetStream error 10059)"), std::string::npos) << e.message;
  EXPECT_FALSE(e.transient);
}

}  // namespace
}  // namespace af::nats
