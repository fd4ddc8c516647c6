#pragma once
// ClickHouseSource: the replay DataSource of data.clickhouse_poll, bars read from
// a ClickHouse table (ClickHouseBarTable) instead of a Vision mirror; `replay
// --data` is not used by it. Also the plugin's descriptor (params, docs, checks),
// shared by replay, validate and the live feed (ClickHousePollFeed).
// Owned by the replay driver; compute thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/descriptor.hpp"
#include "runtime/data_source.hpp"
#include "clickhouse/clickhouse_bar_table.hpp"

namespace af::clickhouse {

class ClickHouseSource final : public DataSource {
 public:
  explicit ClickHouseSource(ClickHouseBarTableConfig config);

  // Bars with ts in [from, to), sorted, one per ts (FINAL on Replacing and
  // Collapsing MergeTrees, then the first row of a ts wins); origin kArchive.
  Result<std::vector<Bar>> history(const std::string& symbol, int64_t from, int64_t to) override;
  Result<std::optional<int64_t>> earliest(const std::string& symbol) override;

 private:
  ClickHouseBarTable table_;
};

registry::Descriptor clickhouse_poll_descriptor();
DataSourceRegistry::Factory clickhouse_poll_factory();

}  // namespace af::clickhouse
