#include "dag/shard_plan.hpp"

#include <set>
#include <string>
#include <vector>

namespace af::dag {
namespace {

// "BTCUSDT on shard 1, ETHUSDT on shard 1": where the symbols a shard lacks went.
std::string placement(const std::vector<std::string>& symbols, uint32_t n) {
  std::string out;
  for (const auto& s : symbols)
    out += (out.empty() ? "" : ", ") + s + " on shard " + std::to_string(ShardSpec::shard_of(s, n));
  return out;
}

}  // namespace

bool restrict_to_shard(Plan& plan, const ShardSpec& shard, Diagnostics& diags) {
  const size_t errors_before = diags.errors().size();
  const std::string spec = shard.to_string();
  for (const auto& step : plan.steps) {
    if (step.descriptor == nullptr || !step.descriptor->needs_all_symbols) continue;
    diags.error(plan.file, step.mark, step.path,
                "`" + step.plugin + "` needs every symbol at once (its rows for one symbol depend on the others' " +
                    "bars), so this pipeline cannot run with --shard " + spec + "; run it unsharded");
  }

  std::vector<std::string> all;  // every symbol of the pipeline, once, in order
  std::set<std::string> seen;
  bool owns_any = false;
  for (const auto& source : plan.sources) {
    for (const auto& s : source.universe) {
      if (seen.insert(s).second) all.push_back(s);
      owns_any = owns_any || shard.owns(s);
    }
  }
  if (!owns_any && !plan.sources.empty()) {
    const StepPlan& first = plan.steps[static_cast<size_t>(plan.sources.front().step)];
    diags.error(plan.file, first.mark, first.path + ".params.universe",
                "shard " + spec + " owns none of the pipeline's " + std::to_string(all.size()) +
                    (all.size() == 1 ? " symbol" : " symbols") + " (" + placement(all, shard.n) +
                    "); run fewer shards or list more symbols");
  }

  for (auto& source : plan.sources) {
    std::vector<std::string> owned;
    for (const auto& s : source.universe)
      if (shard.owns(s)) owned.push_back(s);
    StepPlan& step = plan.steps[static_cast<size_t>(source.step)];
    if (owned.empty() && owns_any) {
      diags.error(plan.file, step.mark, step.path + ".params.universe",
                  "shard " + spec + " owns none of this data step's " + std::to_string(source.universe.size()) +
                      (source.universe.size() == 1 ? " symbol" : " symbols") + " (" +
                      placement(source.universe, shard.n) + "), so its frame would stay empty; run fewer shards");
    }
    if (step.params.has("universe")) step.params.set("universe", owned);
    source.universe = std::move(owned);
  }
  return diags.errors().size() == errors_before;
}

}  // namespace af::dag
