#pragma once
// The one translation of the C client's status codes into af::Error: a one-line
// message naming the operation and the (redacted) bus, and whether retrying can
// help (a dead or unreachable server, a timeout, a cluster electing a leader)
// or cannot (bad credentials, a refused stream configuration).

#include <nats/nats.h>

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace af::nats {

// `what` names the operation and its place: "publish to af.bars.x.1h.BTCUSDT on nats://127.0.0.1:4222".
// `js_code` is the JetStream API error code when the server answered with one (0 otherwise).
Error nats_error(std::string_view what, natsStatus status, jsErrCode js_code = static_cast<jsErrCode>(0));

// True for the statuses where the same call may succeed later.
bool nats_status_transient(natsStatus status, jsErrCode js_code);

}  // namespace af::nats
