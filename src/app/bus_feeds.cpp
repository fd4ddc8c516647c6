#include "app/bus_feeds.hpp"

#include "common/interval.hpp"
#include "common/time.hpp"
#include "service/prometheus_text.hpp"

namespace af::app {

Result<std::unique_ptr<LiveFeed>> BusFeeds::make(const dag::Plan& plan, const dag::SourcePlan& source,
                                                 const LiveFeedSettings& settings) {
  nats::BusBarFeedOptions o;
  o.bus = args_.bus;
  o.connect.name = "alpha_forge signal " + plan.name;
  o.stream = args_.stream;
  o.source = source.source_name;
  o.interval = interval_name(source.interval_ms);
  o.interval_ms = source.interval_ms;
  o.universe = source.universe;
  o.step_path = plan.steps[source.step].path;
  o.durable = nats::durable_consumer_name(plan.name, o.source, o.interval, source.step, args_.shard);
  o.anchor_timeout_ms = settings.anchor_timeout_ms;
  o.stale_after_ms = settings.stale_after_ms;
  // Which bars ingest published live, to anchor on: Binance's come from the
  // WebSocket (history from the archive and REST); a polled table's live bars are
  // origin rest (its history archive).
  if (source.plugin == "data.clickhouse_poll") o.live_origins = {BarOrigin::kRest, BarOrigin::kStream};
  auto feed = std::make_unique<nats::BusBarFeed>(std::move(o));
  feeds_.emplace_back(source.event, feed.get());
  return std::unique_ptr<LiveFeed>(std::move(feed));
}

std::string BusFeeds::metrics_text() const {
  service::PrometheusText t;
  const auto d = [](uint64_t v) { return static_cast<double>(v); };
  for (const auto& [event, feed] : feeds_) {
    const auto c = feed->counters();
    const service::MetricLabels l{{"source", event}};
    t.counter("af_bus_bars_received_total", "Live bar messages fetched from the bus consumer", d(c.received), l);
    t.counter("af_bus_bars_redelivered_total",
              "Of those, messages the bus delivered more than once (a crash, an expired ack wait)", d(c.redelivered), l);
    t.counter("af_bus_bars_acked_total", "Bar messages acknowledged (predictions settled, or not this shard's)",
              d(c.acked), l);
    t.counter("af_bus_bad_messages_total", "Bar messages on the bus that did not decode (logged, skipped)", d(c.bad),
              l);
    t.gauge("af_bus_consumer_pending", "Messages the bus consumer has not delivered yet (-1: not known yet)",
            static_cast<double>(c.pending), l);
    t.gauge("af_bus_connected", "1 while the connection to the bus is up", c.connected ? 1 : 0, l);
  }
  return t.str();
}

std::string BusFeeds::health() const {
  const int64_t now = now_ms();
  for (const auto& [event, feed] : feeds_) {
    const auto c = feed->counters();
    if (!c.connected && c.disconnected_since_ms > 0 && now - c.disconnected_since_ms > args_.unreachable_max_ms) {
      return "bus " + args_.bus.redacted() + " unreachable for " +
             std::to_string((now - c.disconnected_since_ms) / 1000) + " s (bound " +
             std::to_string(args_.unreachable_max_ms / 1000) + " s)";
    }
  }
  return {};
}

}  // namespace af::app
