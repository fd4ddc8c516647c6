#pragma once
// DataSource: where a data step's bars come from in replay (history: Binance
// Vision files, a ClickHouse table). A data plugin's registry entry builds it,
// and, for the live service, the step's LiveFeed (DataPluginExtras::live_feed):
// one registry entry per plugin says how to build both.
// Owned by the driver (replay or signal); compute thread unless stated.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "runtime/bar_chunk.hpp"
#include "registry/param.hpp"
#include "registry/registry.hpp"
#include "runtime/live_feed.hpp"

namespace af {

class DataSource {
 public:
  virtual ~DataSource() = default;
  // Closed bars of `symbol` with ts in [from, to), sorted by ts, no duplicates.
  virtual Result<std::vector<Bar>> history(const std::string& symbol, int64_t from, int64_t to) = 0;
  // The same bars as history(), as the replay driver reads them: a source that
  // keeps its data in columns (a mapped file) views them in place instead of
  // copying them into a vector. The default wraps history().
  virtual Result<BarChunk> history_chunk(const std::string& symbol, int64_t from, int64_t to) {
    auto bars = history(symbol, from, to);
    if (!bars) return bars.error();
    return BarChunk(std::move(bars).value());
  }
  // Earliest ts this source holds for `symbol` (for replay without --from); nullopt if none.
  virtual Result<std::optional<int64_t>> earliest(const std::string& symbol) = 0;
  // Where this source's data for `symbol` probably ends (exclusive), cheaply (no
  // file read): only for a progress display's estimate; nullopt when unknown.
  virtual std::optional<int64_t> coverage_end(const std::string& /*symbol*/) { return std::nullopt; }
};

struct DataSourceContext {
  const registry::Params& params;
  std::string plugin;    // "data.binance_futures"
  int64_t interval_ms;
  std::string data_dir;  // replay: root of a Binance Vision mirror ("" when live)
  bool bar_cache = true;  // replay: a file source may keep its decoded files (false: replay --no-cache)
  // Live (the live_feed factory) only:
  std::string step_path;              // the data step's place in the pipeline, for messages
  std::vector<std::string> universe;  // the step's symbols, in the order LiveFeedBar::symbol counts them
  const LiveFeedSettings* live = nullptr;
};

using LiveFeedFactory = std::function<Result<std::unique_ptr<LiveFeed>>(const DataSourceContext&)>;

// What a data plugin's registry entry says beyond its replay factory.
struct DataPluginExtras {
  LiveFeedFactory live_feed;  // empty: the plugin does not stream (`signal` refuses it)
};

using DataSourceRegistry = registry::Registry<DataSource, DataSourceContext, DataPluginExtras>;

}  // namespace af
