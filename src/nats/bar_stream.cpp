#include "nats/bar_stream.hpp"

#include "nats/nats_error.hpp"

namespace af::nats {

namespace {

PublishHeader final_at_header(int64_t final_at_wall_us) {
  if (final_at_wall_us <= 0) return {};
  return {kBarFinalAtHeader, std::to_string(final_at_wall_us)};
}

}  // namespace

Result<PublishAck> publish_bar(Publisher& publisher, const BarMessage& message, int64_t final_at_wall_us) {
  auto payload = encode_bar(message);
  if (!payload) return payload.error();
  return publisher.publish(bar_subject(message.series), bar_msg_id(message.series, message.bar.ts), *payload,
                           final_at_header(final_at_wall_us));
}

Status publish_bar_async(Publisher& publisher, const BarMessage& message, int64_t final_at_wall_us) {
  auto payload = encode_bar(message);
  if (!payload) return payload.error();
  return publisher.publish_async(bar_subject(message.series), bar_msg_id(message.series, message.bar.ts), *payload,
                                 final_at_header(final_at_wall_us));
}

Result<std::optional<BarMessage>> last_bar(BusConnection& bus, const std::string& stream, const BarSeries& series,
                                           BarDecoder& decoder) {
  const std::string subject = bar_subject(series);
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetLastMsg(&msg, bus.jetstream(), stream.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return std::optional<BarMessage>();
  if (s != NATS_OK) return nats_error("last message of " + subject + " in stream " + stream + " on " + bus.bus(), s, code);
  const uint64_t seq = natsMsg_GetSequence(msg);
  auto decoded = decoder.decode(std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
  natsMsg_Destroy(msg);
  const std::string where = "stream " + stream + " sequence " + std::to_string(seq) + " (" + subject + ")";
  if (!decoded) return make_error(where + ": " + decoded.error().message);
  if (!(decoded->series == series)) return make_error(where + ": holds a bar of " + bar_subject(decoded->series));
  return std::optional<BarMessage>(std::move(*decoded));
}

}  // namespace af::nats
