#pragma once
// Building the live feeds of a plan, shared by every command that streams a
// pipeline's data steps: `signal` (LiveDriver) and `ingest` (which publishes the
// bars to the bus instead of computing on them). One place says how the command
// line's endpoints, trust store, archive cache and the plan's scheduling become
// a feed's settings, and how a data step's plugin builds its feed.

#include <memory>
#include <string>

#include "common/result.hpp"
#include "dag/plan.hpp"
#include "runtime/data_source.hpp"
#include "runtime/live_feed.hpp"

namespace af::service {

struct LiveOptions;

// The archive cache when none is given: <state_dir>/vision-cache when there is a
// state directory, else $XDG_CACHE_HOME or ~/.cache/alpha_forge/vision.
std::string default_vision_cache_dir(const std::string& state_dir_cache);

// The settings every feed of `plan` gets from `options` (endpoints, CA file,
// anchor timeout, staleness) and the plan (buffer_minutes), with `cache_dir`.
LiveFeedSettings live_feed_settings(const dag::Plan& plan, const LiveOptions& options, const std::string& cache_dir);

// The live feed of one data step, as its plugin's registry entry builds it; an
// error naming the step when the plugin cannot stream.
Result<std::unique_ptr<LiveFeed>> make_live_feed(const DataSourceRegistry& data, const dag::Plan& plan,
                                                 const dag::SourcePlan& source, const LiveFeedSettings& settings);

}  // namespace af::service
