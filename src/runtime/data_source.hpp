#pragma once
// DataSource: where a data step's bars come from. For replay it reads history
// (Binance Vision files); the live service adds streaming on top (sources/).
// Owned by the driver (replay or signal); compute thread unless stated.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"
#include "registry/param.hpp"
#include "registry/registry.hpp"

namespace af {

class DataSource {
 public:
  virtual ~DataSource() = default;
  // Closed bars of `symbol` with ts in [from, to), sorted by ts, no duplicates.
  virtual Result<std::vector<Bar>> history(const std::string& symbol, int64_t from, int64_t to) = 0;
  // Earliest ts this source holds for `symbol` (for replay without --from); nullopt if none.
  virtual Result<std::optional<int64_t>> earliest(const std::string& symbol) = 0;
};

struct DataSourceContext {
  const registry::Params& params;
  std::string plugin;    // "data.binance_futures"
  int64_t interval_ms;
  std::string data_dir;  // replay: root of a Binance Vision mirror ("" when live)
};

using DataSourceRegistry = registry::Registry<DataSource, DataSourceContext>;

}  // namespace af
