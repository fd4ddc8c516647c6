#pragma once
#include "runtime/data_source.hpp"
#include "runtime/sink.hpp"

namespace af::clickhouse {

// Adds this module's plugins: the data source data.clickhouse_poll and the sink sinks.clickhouse.
void register_builtins(DataSourceRegistry& data, SinkRegistry& sinks);

}  // namespace af::clickhouse
