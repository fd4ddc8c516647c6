#pragma once
// FaultSpec: which faults the simulated exchange injects and how often, parsed
// from the `--faults` text ("disconnect=0.02,duplicate=0.05,seed=7" or "all").
// Each rate is a probability per opportunity (a WebSocket frame, a closing frame,
// a REST request, an archive download or file). FaultRng draws those decisions from a
// seed, so a run is reproducible. Value types; FaultRng is used by one thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace af::sim {

struct FaultSpec {
  double disconnect = 0;       // per frame: close the TCP socket (no close frame)
  double stall = 0;            // per frame: stop sending on this connection, keep it open
  double duplicate = 0;        // per closing frame: send it twice (at once or re-delivered later)
  double late_close = 0;       // per closing frame: send it after the next bar's first update
  double missing_close = 0;    // per closing frame: never send it
  double reorder = 0;          // per frame: swap with the next frame of another stream
  double rest_429 = 0;         // per REST request: 429 + Retry-After
  double rest_418 = 0;         // per REST request: 418 (IP ban for Retry-After seconds)
  double corrupt_archive = 0;  // per archive download: flip bytes of the zip
  double huge_zip = 0;         // per archive file: a zip whose entry declares 1 PiB (its .CHECKSUM matches)
  double stall_archive = 0;    // per archive download: never answer, keep the connection open
  uint64_t seed = 1;

  bool any_ws() const { return disconnect + stall + duplicate + late_close + missing_close + reorder > 0; }
  std::string text() const;  // canonical form, parsable again
};

// Parses a comma-separated list of key=value (keys as in FaultSpec, values in
// [0, 1], seed an unsigned integer) or "all" (every fault at a moderate rate; may be
// followed by overrides: "all,disconnect=0"). "" and "none" give no faults. Errors
// name the item: "--faults: unknown fault 'dup' (did you mean 'duplicate'?)".
Result<FaultSpec> parse_fault_spec(std::string_view text);

// Deterministic decisions: splitmix64 stream seeded from (spec seed, a stream id).
class FaultRng {
 public:
  FaultRng(uint64_t seed, uint64_t stream);
  uint64_t next();
  double uniform();  // [0, 1)
  bool hit(double p) { return p > 0 && uniform() < p; }

 private:
  uint64_t state_;
};

}  // namespace af::sim
