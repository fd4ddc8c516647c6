#pragma once
// restrict_to_shard: a compiled Plan cut down to the symbols one shard owns
// (`--shard K/N`, common/shard.hpp), before any feed, engine or sink is built
// from it, so a shard never subscribes to, downloads or computes another shard's
// symbols. Used by `signal`, `replay`, `validate` and `ingest`.

#include "common/diagnostic.hpp"
#include "common/shard.hpp"
#include "dag/plan.hpp"

namespace af::dag {

// Keeps in every data step's universe (SourcePlan::universe and the step's
// `universe` param, so the printed plan and the state fingerprint say which
// symbols this shard runs) only the symbols `shard` owns, in their order.
// Refuses, into `diags` at the step's place in the file:
//  - a step whose descriptor needs every symbol at once (needs_all_symbols:
//    transforms.align, cross-sectional steps): its rows would change with the split;
//  - a shard that owns none of the pipeline's symbols, or none of one data step's.
// Returns false when it added an error (the plan is then not to be run).
bool restrict_to_shard(Plan& plan, const ShardSpec& shard, Diagnostics& diags);

}  // namespace af::dag
