// features.obv: on-balance volume (TA-Lib OBV).

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"

namespace af::features {
namespace {

// Obv: one (step, symbol); a running total, so its level depends on where the
// history starts (DESIGN §2: the same every time for the same anchor). Compute thread.
class Obv final : public Feature {
 public:
  void update(std::span<const double> in, std::span<double> out) override {
    const double x = in[0], volume = in[1];
    if (!started_) {
      started_ = true;
      obv_ = volume;
    } else if (x > prev_) {
      obv_ += volume;
    } else if (x < prev_) {
      obv_ -= volume;
    }
    prev_ = x;
    out[0] = obv_;
  }
  void save(StateWriter& w) const override {
    w.put(started_);
    w.put(prev_);
    w.put(obv_);
  }
  bool load(StateReader& r) override {
    r.get(started_);
    r.get(prev_);
    r.get(obv_);
    return !r.failed();
  }

 private:
  bool started_ = false;
  double prev_ = 0.0;
  double obv_ = 0.0;
};

}  // namespace

registry::Descriptor obv_descriptor() {
  auto d = feature_descriptor(
      "features.obv", "On-balance volume (TA-Lib OBV)",
      "`obv[0] = volume[0]` (TA-Lib starts at the first volume); then `obv += volume` when close rises, "
      "`obv -= volume` when it falls, unchanged otherwise. Cumulative: its level depends on the first bar "
      "of the history.",
      {"close", "volume"}, {"OBV"}, 1);
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = std::string("1");  // not a literal: g++ 12 -Wrestrict false positive
  return d;
}

Result<std::unique_ptr<Feature>> make_obv(const FeatureContext&) { return make_feature<Obv>(); }

}  // namespace af::features
