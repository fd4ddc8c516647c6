#include "service/live_feed_factory.hpp"

#include <algorithm>
#include <cstdlib>

#include "common/interval.hpp"
#include "service/live_driver.hpp"

namespace af::service {

std::string default_vision_cache_dir(const std::string& state_dir_cache) {
  if (!state_dir_cache.empty()) return state_dir_cache;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/alpha_forge/vision";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/alpha_forge/vision";
  return ".alpha_forge_cache/vision";
}

LiveFeedSettings live_feed_settings(const dag::Plan& plan, const LiveOptions& options, const std::string& cache_dir) {
  LiveFeedSettings settings;
  settings.binance_ws_url = options.ws_url;
  settings.binance_rest_url = options.rest_url;
  settings.binance_vision_url = options.vision_url;
  settings.binance_base_url = options.base_url;
  settings.ca_file = options.ca_file;
  settings.cache_dir = cache_dir;
  // buffer_minutes: the grace after a close before REST (or the table) is asked for the bar.
  settings.buffer_ms = std::max<int64_t>(1, plan.buffer_minutes) * kMinuteMs;
  settings.anchor_timeout_ms = options.anchor_timeout_ms;
  settings.stale_after_ms = options.stale_after_ms;
  return settings;
}

Result<std::unique_ptr<LiveFeed>> make_live_feed(const DataSourceRegistry& data, const dag::Plan& plan,
                                                 const dag::SourcePlan& source, const LiveFeedSettings& settings) {
  const dag::StepPlan& step = plan.steps[source.step];
  const auto* entry = data.find(source.plugin);
  if (!entry || !entry->extra.live_feed) {
    std::string streaming;
    for (const auto& e : data.entries()) {
      if (e->extra.live_feed) streaming += (streaming.empty() ? "" : ", ") + e->descriptor.name;
    }
    return make_error(step.path + ": " + source.plugin + " has no live feed; `signal` streams " + streaming);
  }
  DataSourceContext context{step.params, source.plugin, source.interval_ms, ""};
  context.step_path = step.path;
  context.universe = source.universe;
  context.live = &settings;
  return entry->extra.live_feed(context);
}

}  // namespace af::service
