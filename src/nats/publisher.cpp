#include "nats/publisher.hpp"

#include <limits>

#include "nats/nats_error.hpp"

namespace af::nats {

Publisher::Publisher(BusConnection& bus, std::string stream) : bus_(bus), stream_(std::move(stream)) {}

Result<PublishAck> Publisher::publish(const std::string& subject, const std::string& msg_id, std::string_view payload) {
  published_.fetch_add(1, std::memory_order_relaxed);
  if (payload.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    return make_error("NATS: publish " + msg_id + " to " + subject + ": payload of " + std::to_string(payload.size()) +
                      " bytes is too large");
  }
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MsgId = msg_id.c_str();
  o.ExpectStream = stream_.c_str();
  o.MaxWait = bus_.policy().request_timeout_ms;
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_Publish(&ack, bus_.jetstream(), subject.c_str(), payload.data(), static_cast<int>(payload.size()), &o, &code);
  if (s != NATS_OK) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    return nats_error("publish " + msg_id + " to " + subject + " (stream " + stream_ + ") on " + bus_.bus(), s, code);
  }
  PublishAck out{ack->Sequence, ack->Duplicate};
  jsPubAck_Destroy(ack);
  (out.duplicate ? duplicates_ : acked_).fetch_add(1, std::memory_order_relaxed);
  return out;
}

PublishCounters Publisher::counters() const {
  return {published_.load(), acked_.load(), duplicates_.load(), failed_.load()};
}

}  // namespace af::nats
