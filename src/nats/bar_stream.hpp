#pragma once
// Bars on a JetStream stream: publishing one (subject, id and payload from the
// codec) and reading the newest one a subject holds, which is where a restarted
// `ingest` resumes and what a consumer may check its position against.

#include <optional>
#include <string>

#include "common/result.hpp"
#include "nats/bar_codec.hpp"
#include "nats/bus_connection.hpp"
#include "nats/publisher.hpp"

namespace af::nats {

// Encodes and publishes one bar; waits for the ack. `final_at_wall_us` > 0: sent
// as the kBarFinalAtHeader header (a live bar's close as its feed saw it).
Result<PublishAck> publish_bar(Publisher& publisher, const BarMessage& message, int64_t final_at_wall_us = 0);
// The same, pipelined (Publisher::publish_async; the ack comes later, failures from drain()).
Status publish_bar_async(Publisher& publisher, const BarMessage& message, int64_t final_at_wall_us = 0);

// The newest bar on the series' subject in `stream` (JetStream "get last message
// for subject"), nullopt when the subject holds none. A message there that does not
// decode, or decodes to another series, is an error naming the stream and sequence.
Result<std::optional<BarMessage>> last_bar(BusConnection& bus, const std::string& stream, const BarSeries& series,
                                           BarDecoder& decoder);

}  // namespace af::nats
