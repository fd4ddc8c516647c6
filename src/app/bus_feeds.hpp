#pragma once
// `signal --bus`: the data steps' feeds built from the market-data bus
// (nats::BusBarFeed) instead of their plugins' own live feeds, and what the
// service shows of them: the bus metrics and the /healthz reason when the bus has
// been unreachable past a bound (docs/scale-out.md "Shards on the bus").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "nats/bus_bar_feed.hpp"
#include "nats/bus_options.hpp"
#include "runtime/live_feed.hpp"

namespace af::app {

struct BusFeedArgs {
  nats::BusOptions bus;
  std::string stream = "AF_BARS";
  std::string shard = "all";              // the durable name's shard part: "all" or "<K>of<N>"
  int64_t unreachable_max_ms = 60'000;    // /healthz: the bus unreachable longer than this
};

class BusFeeds {
 public:
  explicit BusFeeds(BusFeedArgs args) : args_(std::move(args)) {}

  // The feed of one data step (LiveOptions::feed_factory). The feeds stay owned by
  // the driver; this keeps a view of each for the metrics.
  Result<std::unique_ptr<LiveFeed>> make(const dag::Plan& plan, const dag::SourcePlan& source,
                                         const LiveFeedSettings& settings);
  // Prometheus text of the bus counters, one series per data step.
  std::string metrics_text() const;
  // "" when healthy; else why (the bus unreachable for longer than the bound).
  std::string health() const;

 private:
  BusFeedArgs args_;
  std::vector<std::pair<std::string, nats::BusBarFeed*>> feeds_;  // (event, feed)
};

}  // namespace af::app
