#pragma once
// NATS subjects: dot-separated tokens, `*` one token, `>` the rest (one or more).
// The checks the bus needs before the server sees a subject: a token we put in
// one (a source, an interval, a symbol, a DAG name) must be a plain token, and a
// stream's subject filters must cover every subject we publish.

#include <string>
#include <string_view>

namespace af::nats {

// Empty when `token` can stand as one subject token; else why not ("contains '.'").
std::string subject_token_problem(std::string_view token);

// True when every subject matched by `wanted` (which may hold wildcards) is
// matched by the stream filter `filter`: "af.bars.>" covers "af.bars.binance_futures.1h.*".
bool subject_covers(std::string_view filter, std::string_view wanted);

}  // namespace af::nats
