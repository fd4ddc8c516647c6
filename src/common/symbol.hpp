#pragma once
// The exchange's symbol grammar. A symbol names files (the Vision mirror, the
// archive cache, synth-data's output) and stream names, so it must never carry
// a path separator or a dot: only upper-case letters and digits ("BTCUSDT",
// "1000SHIBUSDT"), plus '_' inside the name for Binance's dated delivery
// contracts ("BTCUSDT_250328"), at most kMaxSymbolLength characters (Binance's
// own limit is 20). Pure functions, any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace af {

inline constexpr size_t kMaxSymbolLength = 20;

// "" when `symbol` follows the grammar, else why not, as a phrase that follows
// the quoted symbol: "'../evil' is not an exchange symbol: ...".
std::string symbol_problem(std::string_view symbol);

}  // namespace af
