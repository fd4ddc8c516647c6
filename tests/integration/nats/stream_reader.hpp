#pragma once
// Test support: what a JetStream stream holds, read back message by message
// through the server's "get message by sequence" API (an independent path from
// the publisher under test).

#include <nats/nats.h>

#include <string>
#include <vector>

#include "nats/bus_connection.hpp"
#include "nats/stream_admin.hpp"

namespace af::nats::testing {

struct StoredMessage {
  uint64_t sequence = 0;
  std::string subject, msg_id, payload;
};

inline std::vector<StoredMessage> read_stream(BusConnection& bus, const std::string& stream) {
  std::vector<StoredMessage> out;
  auto d = describe_stream(bus, stream);
  if (!d) return out;
  jsStreamInfo* si = nullptr;
  uint64_t first = 1, last = 0;
  if (js_GetStreamInfo(&si, bus.jetstream(), stream.c_str(), nullptr, nullptr) == NATS_OK) {
    first = si->State.FirstSeq;
    last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
  }
  for (uint64_t seq = first; seq <= last && seq > 0; ++seq) {
    natsMsg* msg = nullptr;
    if (js_GetMsg(&msg, bus.jetstream(), stream.c_str(), seq, nullptr, nullptr) != NATS_OK) continue;
    StoredMessage m;
    m.sequence = seq;
    m.subject = natsMsg_GetSubject(msg);
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id) m.msg_id = id;
    m.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    natsMsg_Destroy(msg);
    out.push_back(std::move(m));
  }
  return out;
}

inline void delete_stream(BusConnection& bus, const std::string& name) {
  js_DeleteStream(bus.jetstream(), name.c_str(), nullptr, nullptr);
}

}  // namespace af::nats::testing
