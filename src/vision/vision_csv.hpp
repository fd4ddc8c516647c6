#pragma once
// Binance Vision kline CSV: the 12-field rows of data.binance.vision's kline files
// (open_time, open, high, low, close, volume, close_time, quote_volume, count,
// taker_buy_volume, taker_buy_quote_volume, ignore). Both dialects are accepted:
// futures files (a header row since 2022) and spot files (no header; microsecond
// timestamps since 2025-01-01). Pure functions, any thread.

#include <string>
#include <string_view>
#include <vector>

#include "common/bar.hpp"
#include "common/result.hpp"

namespace af::vision {

// The field names of a Vision kline row, in file order (also the futures header).
inline constexpr std::string_view kVisionFieldNames[12] = {
    "open_time", "open",   "high",         "low",   "close",            "volume",
    "close_time", "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"};

// Parses `text` and appends its bars (origin kArchive) to `out`, in file order.
// `place` prefixes every error ("BTCUSDT-1h-2024-01.zip:BTCUSDT-1h-2024-01.csv"),
// followed by the 1-based line number: "<place>:12: expected 12 fields, got 3".
// Accepted: an optional header row (first line starting with a letter), LF or CRLF,
// a trailing newline or not, empty lines (skipped), open_time in ms or in µs
// (16 or more digits: divided by 1000). Numbers are parsed with std::from_chars, so
// each value is the double nearest to its decimal text.
Status parse_vision_csv(std::string_view text, std::string_view place, std::vector<Bar>& out);

// Convenience form returning the bars.
Result<std::vector<Bar>> parse_vision_csv(std::string_view text, std::string_view place);

}  // namespace af::vision
