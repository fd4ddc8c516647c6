#include <algorithm>
#include <iostream>

#include "app/commands.hpp"
#include "common/interval.hpp"
#include "common/symbol.hpp"
#include "common/time.hpp"
#include "synthetic/synthetic_market.hpp"

namespace af::app {

int run_synth_data(const SynthDataArgs& args) {
  const auto interval = parse_interval(args.interval);
  if (!interval) {
    std::cerr << "error: --interval '" << args.interval << "' is not a Binance interval\n";
    return kExitInvalid;
  }
  const auto from = parse_iso8601(args.from);
  const auto to = parse_iso8601(args.to);
  if (!from || !to || *to <= *from) {
    std::cerr << "error: --from/--to must be ISO-8601 UTC times with --from before --to (got '" << args.from
              << "', '" << args.to << "')\n";
    return kExitInvalid;
  }
  if (args.symbols.empty()) {
    std::cerr << "error: --symbols needs at least one symbol\n";
    return kExitInvalid;
  }
  // Each symbol names folders and files under --out: only exchange symbols, so
  // that none can lead out of the tree ("../../evil").
  for (size_t i = 0; i < args.symbols.size(); ++i) {
    if (const std::string problem = symbol_problem(args.symbols[i]); !problem.empty()) {
      std::cerr << "error: --symbols: " << problem << '\n';
      return kExitInvalid;
    }
    if (std::find(args.symbols.begin(), args.symbols.begin() + static_cast<std::ptrdiff_t>(i), args.symbols[i]) !=
        args.symbols.begin() + static_cast<std::ptrdiff_t>(i)) {
      std::cerr << "error: --symbols: '" << args.symbols[i] << "' is listed twice\n";
      return kExitInvalid;
    }
  }
  auto st = synthetic::write_synthetic_mirror(args.out, args.symbols, *interval, *from, *to, args.seed);
  if (!st) {
    std::cerr << "error: " << st.error().message << '\n';
    return kExitFailure;
  }
  std::cout << "synth-data: wrote " << args.symbols.size() << " symbols of " << args.interval << " bars from "
            << format_iso8601(*from) << " to " << format_iso8601(*to) << " (seed " << args.seed << ") under "
            << args.out << '\n';
  return kExitOk;
}

}  // namespace af::app
