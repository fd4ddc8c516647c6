#include "clickhouse/register_builtins.hpp"

#include "clickhouse/clickhouse_poll_feed.hpp"
#include "clickhouse/clickhouse_sink.hpp"
#include "clickhouse/clickhouse_source.hpp"

namespace af::clickhouse {

void register_builtins(DataSourceRegistry& data, SinkRegistry& sinks) {
  data.add(clickhouse_poll_descriptor(), clickhouse_poll_factory(), {.live_feed = clickhouse_poll_feed_factory()});
  register_clickhouse(sinks);
}

}  // namespace af::clickhouse
