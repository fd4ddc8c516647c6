#pragma once
#include "runtime/data_source.hpp"

namespace af::binance {

// Adds data.binance_futures and data.binance_spot (replay: a Vision mirror), explicitly listed in register_builtins.cpp.
void register_builtins(DataSourceRegistry& registry);

}  // namespace af::binance
