// features.ema: exponential moving average with TA-Lib's seeding.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ta_ema.hpp"

namespace af::features {
namespace {

// Ema: one (step, symbol). Compute thread.
class Ema final : public Feature {
 public:
  explicit Ema(int64_t window) : ema_(window) {}

  void update(std::span<const double> in, std::span<double> out) override { out[0] = ema_.update(in[0]); }
  void save(StateWriter& w) const override { ema_.save(w); }
  bool load(StateReader& r) override { return ema_.load(r); }

 private:
  TaEma ema_;
};

}  // namespace

registry::Descriptor ema_descriptor() {
  auto d = feature_descriptor(
      "features.ema", "Exponential moving average (TA-Lib EMA)",
      "`k = 2 / (window + 1)`. The first value (row `window-1`) is the simple mean of the first `window` "
      "inputs (TA-Lib's default seeding); then `ema = ema + k * (x - ema)`.",
      {}, {"EMA"}, 1);
  d.params = {int_param("window", 20, 1, "period; k = 2 / (window + 1)")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window"); };
  d.warmup_doc = "window";
  d.settling_window = [](const registry::Params& p) { return p.get_int("window"); };
  return d;
}

Result<std::unique_ptr<Feature>> make_ema(const FeatureContext& ctx) {
  return make_feature<Ema>(ctx.params.get_int("window"));
}

}  // namespace af::features
